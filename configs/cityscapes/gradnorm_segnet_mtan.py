# Cityscapes, MTAN protocol, MTAN SegNet: GradNorm, alpha 1.5.
_base_ = ['./_base_/segnet_mtan_cityscapes.py']
model = dict(balancer=dict(_delete_=True, type='GradNorm', alpha=1.5))
