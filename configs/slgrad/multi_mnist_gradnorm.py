# GradNorm (alpha 1.5) on Multi-MNIST.
_base_ = ['./multi_mnist_ew.py']
model = dict(balancer=dict(type='GradNorm', alpha=1.5))
