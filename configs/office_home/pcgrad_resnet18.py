# PCGrad (projecting conflicting gradients) on Office-Home.
_base_ = ['./ew_resnet18.py']
model = dict(balancer=dict(type='PCGrad'))
