from .balancer_hook import BalancerHook
from .progress_bar_hook import ProgressBarHook

__all__ = ['BalancerHook', 'ProgressBarHook']
