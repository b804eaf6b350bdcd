from .depth_metric import DepthMetric
from .normal_metric import NormalMetric
from .seg_metric import SegMetric

__all__ = ['SegMetric', 'DepthMetric', 'NormalMetric']
