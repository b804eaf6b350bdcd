# CelebA 40 attributes, FAMO protocol: PCGrad.
_base_ = ['./_base_/convnet_celeba.py']
model = dict(balancer=dict(_delete_=True, type='PCGrad'))
