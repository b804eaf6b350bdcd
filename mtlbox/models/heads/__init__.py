from .atss_det_head import ATSSDetHead, atss_det_loss, postprocess_detections
from .base_dense_head import BaseDenseHead
from .cls_head import ClsHead
from .decoders import ASPPDecoder, ConcatDecoder, LightDecoder
from .depth_head import DepthHead
from .edge_head import EdgeHead
from .enhance_head import EnhanceHead
from .normal_head import NormalHead
from .parts_head import PartsHead
from .saliency_head import SaliencyHead
from .seg_head import SegHead

__all__ = ['BaseDenseHead', 'SegHead', 'DepthHead', 'NormalHead',
           'ATSSDetHead', 'atss_det_loss', 'postprocess_detections',
           'ConcatDecoder', 'ASPPDecoder', 'LightDecoder', 'EnhanceHead',
           'ClsHead', 'SaliencyHead', 'EdgeHead', 'PartsHead']
from .regression_head import RegressionHead  # noqa: E402

__all__ += ['RegressionHead']
