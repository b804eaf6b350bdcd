from .augmentation_rng_hook import AugmentationRNGHook
from .balancer_hook import BalancerHook
from .progress_bar_hook import ProgressBarHook

__all__ = ['AugmentationRNGHook', 'BalancerHook', 'ProgressBarHook']
