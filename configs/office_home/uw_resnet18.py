# Uncertainty weighting (Kendall et al.) on Office-Home domains as tasks.
_base_ = ['./ew_resnet18.py']
model = dict(balancer=dict(type='UW'))
