# NYUv2, MTAN protocol, MTAN SegNet: random loss weighting (Lin et al. 2022).
_base_ = ['./_base_/segnet_mtan_nyuv2.py']
model = dict(balancer=dict(_delete_=True, type='RLW'))
