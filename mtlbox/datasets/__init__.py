from .base import CorruptSampleError, DatasetLayoutError, MTLBaseDataset
from .cifar_mt import CIFAR10MTDataset
from .multi_mnist import MultiDigitsDataset, MultiMNISTDataset
from .nyu import NYUDepthListDataset, NYUDMTDataset, NYUv2MTANDataset
from .office import Office31Dataset, OfficeDataset, OfficeHomeDataset
from .partial import PartialMTLDataset, SourceRatioSampler
from .pascal_context import PascalContextMTDataset
from .synth_scenes import SynthScenes
from .toy_regression import ToyRegressionDataset
from .transforms import *  # noqa: F401,F403
from .underwater import (EUVPPairedDataset, SynthUnderwaterRGBD, UIEBDataset,
                         UnderwaterCocoDataset, URPCDataset)
from .voc import VOCMTLDataset

__all__ = [
    'SynthScenes', 'DatasetLayoutError', 'CorruptSampleError',
    'MTLBaseDataset', 'VOCMTLDataset', 'NYUv2MTANDataset', 'NYUDMTDataset',
    'NYUDepthListDataset', 'PartialMTLDataset', 'SourceRatioSampler',
    'UnderwaterCocoDataset', 'URPCDataset', 'UIEBDataset',
    'EUVPPairedDataset', 'SynthUnderwaterRGBD', 'PascalContextMTDataset',
    'OfficeDataset', 'OfficeHomeDataset', 'Office31Dataset',
    'MultiMNISTDataset', 'MultiDigitsDataset', 'CIFAR10MTDataset',
    'ToyRegressionDataset'
]

# the literature benchmarks' Cityscapes and CelebA layouts
from .celeba import CelebADataset  # noqa: E402
from .cityscapes import CityscapesMTANDataset  # noqa: E402

__all__ += ['CityscapesMTANDataset', 'CelebADataset']
