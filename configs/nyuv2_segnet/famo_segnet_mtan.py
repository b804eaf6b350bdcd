# NYUv2, MTAN protocol, MTAN SegNet: FAMO (Liu et al. 2023) with its
# defaults: logit lr 0.025, weight decay (gamma) 1e-3.
_base_ = ['./_base_/segnet_mtan_nyuv2.py']
model = dict(balancer=dict(_delete_=True, type='FAMO'))
