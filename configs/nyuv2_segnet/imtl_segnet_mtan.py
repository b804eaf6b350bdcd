# NYUv2, MTAN protocol, MTAN SegNet: IMTL (Liu et al. 2021).
_base_ = ['./_base_/segnet_mtan_nyuv2.py']
model = dict(balancer=dict(_delete_=True, type='IMTL'))
