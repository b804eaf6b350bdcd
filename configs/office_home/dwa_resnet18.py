# Dynamic weight average (temperature 2) on Office-Home domains as tasks.
_base_ = ['./ew_resnet18.py']
model = dict(balancer=dict(type='DWA', temperature=2.0))
