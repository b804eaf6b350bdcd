# Nash-MTL (G G^T alpha = 1 / alpha) on Office-Home domains as tasks.
_base_ = ['./ew_resnet18.py']
model = dict(balancer=dict(type='NashMTL'))
