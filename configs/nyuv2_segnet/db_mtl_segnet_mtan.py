# NYUv2, MTAN protocol, MTAN SegNet: DB-MTL (Lin et al. 2023).
_base_ = ['./_base_/segnet_mtan_nyuv2.py']
model = dict(balancer=dict(_delete_=True, type='DB-MTL'))
