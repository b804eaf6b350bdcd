# CelebA 40 attributes, FAMO protocol: FAMO, gamma 1e-3 (celeba run.sh).
_base_ = ['./_base_/convnet_celeba.py']
model = dict(balancer=dict(_delete_=True, type='FAMO', weight_decay=0.001))
