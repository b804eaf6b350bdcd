# Cityscapes, MTAN protocol, MTAN SegNet: CAGrad, c = 0.4.
_base_ = ['./_base_/segnet_mtan_cityscapes.py']
model = dict(balancer=dict(_delete_=True, type='CAGrad', alpha=0.4))
