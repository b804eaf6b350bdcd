"""EfficientNet-V2 backbones from torchvision."""
from typing import Sequence

import torchvision

from mtlbox.registry import MODELS
from .torchvision_features import TorchvisionFeatures


@MODELS.register_module()
class EfficientNetV2(TorchvisionFeatures):
    """torchvision EfficientNet-V2 returning stride 4/8/16/32 stages.

    Tan & Le, "EfficientNetV2: Smaller Models and Faster Training", ICML 2021.

    Stages of ``efficientnet_v2_s`` (torchvision ``features`` indices):
    stem ``0-1`` (stride 2, 24 ch), stage 0 ``2`` (stride 4, 48 ch), stage 1
    ``3`` (stride 8, 64 ch), stage 2 ``4-5`` (stride 16, 160 ch), stage 3
    ``6`` (stride 32, 256 ch). The final 1x1 conv to 1280 channels and the
    classifier are dropped. ``out_indices=(1, 2, 3)`` gives the VMM model's
    strides 8/16/32 with 64/160/256 channels (AMTL, Yun & Cho, ICCV 2023).

    Args:
        arch: ``'s'``, ``'m'`` or ``'l'``.
        out_indices: stages to return (0..3).
        frozen_stages: -1 none, 0 the stem, k the stem and stages 0..k-1.
        norm_eval: keep BatchNorm in eval mode while training.
        drop_path_rate: stochastic depth of torchvision (0.2 by default
            there; 0 here, set it for training from scratch).
        weights: torchvision weight enum member, e.g.
            ``'EfficientNet_V2_S_Weights.IMAGENET1K_V1'``: the file in
            ``$TORCH_HOME/hub/checkpoints/`` (never downloaded).
        with_cp: activation checkpointing per block (less memory, one
            more forward pass; loss and gradients unchanged).
        init_cfg: ``dict(type='Pretrained', checkpoint=PATH)``: a local
            torchvision state dict of the same arch (``features.*`` keys).
    """

    # features bounds [stem | s4 | s8 | s16 | s32] and channels
    _ARCHS = {
        's': ((0, 2, 3, 4, 6, 7), (24, 48, 64, 160, 256)),
        'm': ((0, 2, 3, 4, 6, 8), (24, 48, 80, 176, 512)),
        'l': ((0, 2, 3, 4, 6, 8), (32, 64, 96, 224, 640)),
    }

    def __init__(self,
                 arch: str = 's',
                 out_indices: Sequence[int] = (1, 2, 3),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 drop_path_rate: float = 0.0,
                 weights=None,
                 with_cp: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if arch not in self._ARCHS:
            raise ValueError(f'EfficientNetV2 arch={arch!r} unsupported; '
                             f'choose one of {sorted(self._ARCHS)}')
        net = getattr(torchvision.models, f'efficientnet_v2_{arch}')(
            weights=None, stochastic_depth_prob=drop_path_rate)
        bounds, channels = self._ARCHS[arch]
        self.arch = arch
        self.weight_enums = (f'EfficientNet_V2_{arch.upper()}_Weights', )
        self._build(net, bounds, channels, out_indices, frozen_stages,
                    norm_eval, with_cp, weights)
