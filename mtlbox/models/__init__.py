from .architectures import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .data_preprocessor import MTLDataPreprocessor
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .multitask_model import MultiTaskModel
from .necks import *  # noqa: F401,F403

__all__ = ['MultiTaskModel', 'MTLDataPreprocessor']

# the literature benchmarks' models: MTAN SegNet (backbone, attention,
# reference heads) and the CelebA network with its binary heads
from .architectures.segnet_mtan import SegNetMTAN  # noqa: E402
from .backbones.celeba_convnet import CelebAConvNet  # noqa: E402
from .backbones.segnet import SegNet  # noqa: E402
from .heads.binary_cls_head import BinaryClsHead  # noqa: E402
from .heads.mtan_heads import (MTANDepthHead, MTANNormalHead,  # noqa: E402
                               MTANSegHead)

__all__ += ['SegNet', 'SegNetMTAN', 'MTANSegHead', 'MTANDepthHead',
            'MTANNormalHead', 'CelebAConvNet', 'BinaryClsHead']
