from .engine import apply_sample_step, sample_scores
from .slgrad import SLGrad, slgrad_weights

__all__ = ['SLGrad', 'apply_sample_step', 'sample_scores', 'slgrad_weights']
