# VOC + NYU partially annotated, VMM model: dynamic task prioritization instead of AMTL
# (a compared method of the AMTL paper). Everything else as amtl_effv2s.py.
_base_ = ['./amtl_effv2s.py']
model = dict(balancer=dict(_delete_=True, type='DTP', metric_keys=dict(det='det/mAP', seg='seg/mIoU', depth='depth/delta1'), gamma=0.5))
