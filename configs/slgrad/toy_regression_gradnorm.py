# GradNorm (alpha 1.5) on toy regression.
_base_ = ['./toy_regression_ew.py']
model = dict(balancer=dict(type='GradNorm', alpha=1.5))
