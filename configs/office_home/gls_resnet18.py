# Geometric loss strategy (prod L_t)^(1/T) on Office-Home domains as tasks.
_base_ = ['./ew_resnet18.py']
model = dict(balancer=dict(type='GLS'))
