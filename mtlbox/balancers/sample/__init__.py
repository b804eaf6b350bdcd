from .engine import sample_scores
from .slgrad import SLGrad, slgrad_weights

__all__ = ['SLGrad', 'sample_scores', 'slgrad_weights']
