# Cityscapes, MTAN protocol, MTAN SegNet: uncertainty weighting.
_base_ = ['./_base_/segnet_mtan_cityscapes.py']
model = dict(balancer=dict(_delete_=True, type='UW', init_log_var=-0.5))
