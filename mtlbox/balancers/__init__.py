from .base import (Aggregation, BaseBalancer, GramianBalancer,
                   NonFiniteTaskRows, Weighting, as_loss_vector)
from .compose import Compose
from .gradient import *  # noqa: F401,F403
from .sample import *  # noqa: F401,F403
from .weighting import *  # noqa: F401,F403

__all__ = ['Aggregation', 'BaseBalancer', 'Compose', 'GramianBalancer',
           'NonFiniteTaskRows', 'Weighting', 'as_loss_vector']
