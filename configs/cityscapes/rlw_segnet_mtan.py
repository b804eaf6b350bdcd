# Cityscapes, MTAN protocol, MTAN SegNet: random loss weighting.
_base_ = ['./_base_/segnet_mtan_cityscapes.py']
model = dict(balancer=dict(_delete_=True, type='RLW'))
