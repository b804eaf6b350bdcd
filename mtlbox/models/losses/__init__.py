from .cross_entropy_loss import CrossEntropyLoss
from .depth_l1_loss import DepthL1Loss
from .normal_cosine_loss import NormalCosineLoss
from .utils import masked_mean

__all__ = ['CrossEntropyLoss', 'DepthL1Loss', 'NormalCosineLoss', 'masked_mean']
