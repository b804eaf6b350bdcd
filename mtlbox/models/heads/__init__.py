from .base_dense_head import BaseDenseHead
from .depth_head import DepthHead
from .normal_head import NormalHead
from .seg_head import SegHead

__all__ = ['BaseDenseHead', 'SegHead', 'DepthHead', 'NormalHead']
