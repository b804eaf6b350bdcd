# CAGrad (alpha 0.5) on toy regression, all tasks treated alike.
_base_ = ['./toy_regression_ew.py']
model = dict(balancer=dict(type='CAGrad', alpha=0.5, rescale=1))
