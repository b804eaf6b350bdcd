# Random loss weighting (softmax of N(0, I) each step) on Office-Home.
_base_ = ['./ew_resnet18.py']
model = dict(balancer=dict(type='RLW'))
