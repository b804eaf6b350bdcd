"""An mtlbox plugin: new components registered without touching mtlbox.

Import it with ``custom_imports = dict(imports=['mtl_plugin'])`` in a config
(with this folder on ``PYTHONPATH``), then use the types by name.
"""
from .boundary import (BoundaryBCELoss, BoundaryF1Metric, BoundaryHead,
                       LoadBoundaryAnnotation)
from .log_sum_balancer import LogSum
from .sobel_depth_head import SobelDepthHead

__all__ = ['LogSum', 'SobelDepthHead', 'BoundaryHead', 'BoundaryBCELoss',
           'BoundaryF1Metric', 'LoadBoundaryAnnotation']
