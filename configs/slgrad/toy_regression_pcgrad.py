# PCGrad on toy regression.
_base_ = ['./toy_regression_ew.py']
model = dict(balancer=dict(type='PCGrad'))
