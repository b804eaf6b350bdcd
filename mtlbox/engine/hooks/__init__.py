from .augmentation_rng_hook import AugmentationRNGHook
from .balancer_hook import BalancerHook
from .checkpoint_hook import MTLCheckpointHook
from .progress_bar_hook import ProgressBarHook

__all__ = [
    'AugmentationRNGHook', 'BalancerHook', 'MTLCheckpointHook',
    'ProgressBarHook'
]
