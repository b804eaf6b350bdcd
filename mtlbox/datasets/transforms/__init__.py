from .formatting import PackMTLInputs
from .geometric import MTLRandomFlip

__all__ = ['PackMTLInputs', 'MTLRandomFlip']
