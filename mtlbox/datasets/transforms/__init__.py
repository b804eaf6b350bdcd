from .formatting import PackMTLInputs
from .geometric import (MTLPad, MTLRandomCrop, MTLRandomExpand, MTLRandomFlip,
                        MTLRandomScaleCrop, MTLResize)
from .loading import LoadMTLAnnotations, LoadMTLImageFromFile
from .photometric import MTLPhotometricDistortion
from .vector import PackVectorInputs

__all__ = [
    'PackMTLInputs', 'MTLRandomFlip', 'MTLResize', 'MTLRandomCrop', 'MTLPad',
    'MTLRandomScaleCrop', 'MTLRandomExpand',
    'LoadMTLImageFromFile', 'LoadMTLAnnotations', 'MTLPhotometricDistortion',
    'PackVectorInputs'
]
