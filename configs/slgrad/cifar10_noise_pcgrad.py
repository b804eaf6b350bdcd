# PCGrad on noisy CIFAR-10.
_base_ = ['./cifar10_noise_ew.py']
model = dict(balancer=dict(type='PCGrad'))
