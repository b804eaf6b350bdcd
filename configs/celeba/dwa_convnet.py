# CelebA 40 attributes, FAMO protocol: dynamic weight average, temperature 2.
_base_ = ['./_base_/convnet_celeba.py']
model = dict(balancer=dict(_delete_=True, type='DWA', temperature=2.0))
