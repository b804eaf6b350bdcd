# Cityscapes, MTAN protocol, MTAN SegNet: DB-MTL.
_base_ = ['./_base_/segnet_mtan_cityscapes.py']
model = dict(balancer=dict(_delete_=True, type='DB-MTL'))
