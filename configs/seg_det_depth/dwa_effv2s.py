# VOC + NYU partially annotated, VMM model: dynamic weight average instead of AMTL
# (a compared method of the AMTL paper). Everything else as amtl_effv2s.py.
_base_ = ['./amtl_effv2s.py']
model = dict(balancer=dict(_delete_=True, type='DWA', temperature=2.0))
