# CelebA 40 attributes, FAMO protocol: CAGrad, c = 0.4.
_base_ = ['./_base_/convnet_celeba.py']
model = dict(balancer=dict(_delete_=True, type='CAGrad', alpha=0.4))
