"""MobileNet-V2 backbone from torchvision."""
from typing import Sequence

import torchvision

from mtlbox.registry import MODELS
from .torchvision_features import TorchvisionFeatures


@MODELS.register_module()
class MobileNetV2(TorchvisionFeatures):
    """torchvision MobileNet-V2 returning stride 4/8/16/32 stages.

    Sandler et al., "MobileNetV2: Inverted Residuals and Linear
    Bottlenecks", CVPR 2018.

    Stem ``features[0-1]`` (stride 2, 16 ch); stages ``2-3`` (stride 4, 24),
    ``4-6`` (stride 8, 32), ``7-13`` (stride 16, 96), ``14-17`` (stride 32,
    320). The last 1x1 conv to 1280 channels is dropped.

    Args:
        widen_factor: torchvision ``width_mult`` (channels scale with it).
        out_indices, frozen_stages, norm_eval, with_cp, init_cfg: as
            :class:`EfficientNetV2`.
        weights: ``'MobileNet_V2_Weights.IMAGENET1K_V1'`` or ``_V2``
            (``widen_factor=1.0``), from ``$TORCH_HOME/hub/checkpoints/``.
    """

    def __init__(self,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 widen_factor: float = 1.0,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 weights=None,
                 with_cp: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        net = torchvision.models.mobilenet_v2(
            weights=None, width_mult=widen_factor)
        bounds = (0, 2, 4, 7, 14, 18)
        channels = [net.features[i - 1].out_channels for i in bounds[1:]]
        self.weight_enums = ('MobileNet_V2_Weights', )
        self._build(net, bounds, channels, out_indices, frozen_stages,
                    norm_eval, with_cp, weights)
