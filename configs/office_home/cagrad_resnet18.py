# CAGrad (conflict-averse gradient, alpha 0.5) on Office-Home.
_base_ = ['./ew_resnet18.py']
model = dict(balancer=dict(type='CAGrad', alpha=0.5, rescale=1))
