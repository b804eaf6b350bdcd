# PCGrad on Multi-MNIST.
_base_ = ['./multi_mnist_ew.py']
model = dict(balancer=dict(type='PCGrad'))
