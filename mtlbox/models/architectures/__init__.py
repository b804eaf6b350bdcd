from .base import BaseArchitecture
from .hps import HPS

__all__ = ['BaseArchitecture', 'HPS']
