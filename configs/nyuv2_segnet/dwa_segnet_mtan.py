# NYUv2, MTAN protocol, MTAN SegNet: dynamic weight average,
# temperature 2 (MTAN paper).
_base_ = ['./_base_/segnet_mtan_nyuv2.py']
model = dict(balancer=dict(_delete_=True, type='DWA', temperature=2.0))
