# MGDA (min-norm point of the task gradients) on Office-Home.
_base_ = ['./ew_resnet18.py']
model = dict(balancer=dict(type='MGDA', normalization='none'))
