from .cls_metric import ClsMetric
from .coco_metric import COCOMetric
from .depth_metric import DepthMetric
from .edge_metric import EdgeMetric
from .enhance_metric import EnhanceMetric
from .normal_metric import NormalMetric
from .saliency_metric import SaliencyMetric
from .parts_metric import PartsMetric
from .seg_metric import SegMetric
from .voc_metric import VOCMetric

__all__ = ['SegMetric', 'DepthMetric', 'NormalMetric', 'VOCMetric',
           'COCOMetric', 'EnhanceMetric', 'ClsMetric', 'SaliencyMetric',
           'EdgeMetric', 'PartsMetric']
from .regression_metric import RegressionMetric  # noqa: E402

__all__ += ['RegressionMetric']
