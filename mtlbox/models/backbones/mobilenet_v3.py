"""MobileNet-V3 backbones from torchvision."""
from typing import Sequence

import torchvision

from mtlbox.registry import MODELS
from .torchvision_features import TorchvisionFeatures


@MODELS.register_module()
class MobileNetV3(TorchvisionFeatures):
    """torchvision MobileNet-V3 (large or small) returning stride
    4/8/16/32 stages.

    Howard et al., "Searching for MobileNetV3", ICCV 2019.

    ``large``: stem ``features[0-1]`` (stride 2, 16 ch), stages ``2-3``
    (24), ``4-6`` (40), ``7-12`` (112), ``13-15`` (160).
    ``small``: stem ``0`` (16), stages ``1`` (16), ``2-3`` (24), ``4-8``
    (48), ``9-11`` (96). The last 1x1 conv (960 / 576 ch) is dropped.

    Args:
        arch: ``'large'`` or ``'small'``.
        out_indices, frozen_stages, norm_eval, with_cp, init_cfg: as
            :class:`EfficientNetV2`.
        weights: ``'MobileNet_V3_Large_Weights.IMAGENET1K_V1'`` (or
            ``_Small_``), from ``$TORCH_HOME/hub/checkpoints/``.
    """

    _ARCHS = {
        'large': ((0, 2, 4, 7, 13, 16), (16, 24, 40, 112, 160)),
        'small': ((0, 1, 2, 4, 9, 12), (16, 16, 24, 48, 96)),
    }

    def __init__(self,
                 arch: str = 'large',
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 weights=None,
                 with_cp: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if arch not in self._ARCHS:
            raise ValueError(f'MobileNetV3 arch={arch!r} unsupported; '
                             f'choose one of {sorted(self._ARCHS)}')
        net = getattr(torchvision.models, f'mobilenet_v3_{arch}')(weights=None)
        bounds, channels = self._ARCHS[arch]
        self.arch = arch
        self.weight_enums = (f'MobileNet_V3_{arch.capitalize()}_Weights', )
        self._build(net, bounds, channels, out_indices, frozen_stages,
                    norm_eval, with_cp, weights)
