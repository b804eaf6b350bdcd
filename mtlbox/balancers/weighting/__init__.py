from .amtl import AMTL, achievement_weights
from .auto_lambda import AutoLambda, finite_difference_hypergradient
from .dtp import DTP, focal_priority
from .dwa import DWA, dwa_weights
from .ew import EW
from .famo import FAMO, famo_loss
from .fixed import Fixed
from .gemtl import GeMTL, power_mean
from .gls import GLS, geometric_mean
from .imtl_l import IMTLL, imtl_l_loss
from .rlw import RLW
from .si import SI, scale_invariant_loss
from .stch import STCH, smooth_tchebycheff
from .uw import UW, uncertainty_loss

__all__ = [
    'AMTL', 'DTP', 'DWA', 'EW', 'FAMO', 'Fixed', 'GeMTL', 'GLS', 'IMTLL',
    'RLW', 'STCH', 'UW', 'achievement_weights', 'dwa_weights', 'famo_loss',
    'focal_priority', 'geometric_mean', 'imtl_l_loss', 'power_mean',
    'smooth_tchebycheff', 'uncertainty_loss'
]
