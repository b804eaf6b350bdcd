# IMTL (hybrid: IMTL-G gradients + IMTL-L loss scales) on Office-Home.
_base_ = ['./ew_resnet18.py']
model = dict(balancer=dict(type='IMTL'))
