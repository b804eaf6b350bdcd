from .augmentation_rng_hook import AugmentationRNGHook
from .balancer_hook import BalancerHook
from .checkpoint_hook import MTLCheckpointHook
from .grad_conflict_hook import GradConflictHook
from .progress_bar_hook import ProgressBarHook
from .train_progress_hook import TrainProgressHook

__all__ = [
    'AugmentationRNGHook', 'BalancerHook', 'GradConflictHook',
    'MTLCheckpointHook', 'ProgressBarHook', 'TrainProgressHook'
]
