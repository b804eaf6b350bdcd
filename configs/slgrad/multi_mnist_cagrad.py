# CAGrad (alpha 0.5) on Multi-MNIST, all tasks treated alike.
_base_ = ['./multi_mnist_ew.py']
model = dict(balancer=dict(type='CAGrad', alpha=0.5, rescale=1))
