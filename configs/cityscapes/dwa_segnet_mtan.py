# Cityscapes, MTAN protocol, MTAN SegNet: dynamic weight average,
# temperature 2.
_base_ = ['./_base_/segnet_mtan_cityscapes.py']
model = dict(balancer=dict(_delete_=True, type='DWA', temperature=2.0))
