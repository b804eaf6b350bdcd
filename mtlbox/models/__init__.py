from .architectures import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .data_preprocessor import MTLDataPreprocessor
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .multitask_model import MultiTaskModel
from .necks import *  # noqa: F401,F403

__all__ = ['MultiTaskModel', 'MTLDataPreprocessor']
