# NYUv2, MTAN protocol, MTAN SegNet: Nash-MTL (Navon et al. 2022).
_base_ = ['./_base_/segnet_mtan_nyuv2.py']
model = dict(balancer=dict(_delete_=True, type='NashMTL'))
