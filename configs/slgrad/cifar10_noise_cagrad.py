# CAGrad (alpha 0.5) on noisy CIFAR-10, all tasks treated alike.
_base_ = ['./cifar10_noise_ew.py']
model = dict(balancer=dict(type='CAGrad', alpha=0.5, rescale=1))
