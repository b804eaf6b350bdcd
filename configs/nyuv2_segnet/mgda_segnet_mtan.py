# NYUv2, MTAN protocol, MTAN SegNet: MGDA-min-norm (Sener & Koltun 2018).
_base_ = ['./_base_/segnet_mtan_nyuv2.py']
model = dict(balancer=dict(_delete_=True, type='MGDA'))
