# NYUv2, MTAN protocol, MTAN SegNet: CAGrad, c = 0.4 (the CAGrad /
# Nash-MTL NYUv2 runs).
_base_ = ['./_base_/segnet_mtan_nyuv2.py']
model = dict(balancer=dict(_delete_=True, type='CAGrad', alpha=0.4))
