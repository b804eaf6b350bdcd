# NYUv2, MTAN protocol, MTAN SegNet: PCGrad (Yu et al. 2020).
_base_ = ['./_base_/segnet_mtan_nyuv2.py']
model = dict(balancer=dict(_delete_=True, type='PCGrad'))
