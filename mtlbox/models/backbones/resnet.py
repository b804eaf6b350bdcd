"""ResNet backbones built from torchvision, with local pretrained weights."""
from typing import Sequence

import torchvision
from torch import nn

from mtlbox.registry import MODELS
from .base_backbone import StagedBackbone

_ARCHS = {18: 'resnet18', 34: 'resnet34', 50: 'resnet50', 101: 'resnet101'}


@MODELS.register_module()
class ResNet(StagedBackbone):
    """torchvision ResNet returning the maps of the chosen stages.

    He et al., "Deep Residual Learning for Image Recognition", CVPR 2016.

    Stem: conv 7x7/2, BN, ReLU, max-pool 3x3/2 (stride 4, 64 channels).
    Stage i (0..3) has stride ``4 * 2**i`` and ``64 * 2**i`` channels (x4
    for depth >= 50). With ``dilations=(False, True, True)`` stages 2 and 3
    keep stride 8 and use dilation 2 and 4 (DeepLab, output stride 8); with
    ``(False, False, True)`` the output stride is 16.

    Args:
        depth: 18, 34, 50 or 101.
        out_indices: stages to return, e.g. ``(1, 2, 3)`` for strides 8/16/32.
        dilations: ``replace_stride_with_dilation`` of stages 1, 2, 3
            (depth >= 50 only).
        frozen_stages: -1 none, 0 the stem, k the stem and stages 0..k-1.
        norm_eval: keep BatchNorm in eval mode while training.
        weights: torchvision weight enum member, e.g.
            ``'ResNet50_Weights.IMAGENET1K_V2'``: the file in
            ``$TORCH_HOME/hub/checkpoints/`` (never downloaded).
        with_cp: activation checkpointing per residual block (less memory,
            one more forward pass; loss and gradients unchanged).
        init_cfg: ``dict(type='Pretrained', checkpoint=PATH)`` with a local
            torchvision state dict (``conv1``/``bn1``/``layerN`` keys are
            mapped onto ``stem``/``layers``; ``fc`` and stages after the
            last of ``out_indices`` are dropped).
    """

    ignored_prefixes = ('fc.', )

    def __init__(self,
                 depth: int = 18,
                 out_indices: Sequence[int] = (1, 2, 3),
                 dilations: Sequence[bool] = (False, False, False),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 weights=None,
                 with_cp: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if depth not in _ARCHS:
            raise ValueError(f'ResNet depth={depth} unsupported; choose one '
                             f'of {sorted(_ARCHS)}')
        if len(dilations) != 3:
            raise ValueError(f'ResNet dilations={dilations} needs 3 booleans '
                             '(stages 1, 2, 3), e.g. (False, True, True)')
        if any(dilations) and depth < 50:
            raise ValueError(f'ResNet dilations={dilations} need depth >= 50 '
                             '(torchvision BasicBlock has no dilation); use '
                             'depth=50 or dilations=(False, False, False)')
        net = getattr(torchvision.models, _ARCHS[depth])(
            weights=None, replace_stride_with_dilation=list(dilations))
        self.depth = depth
        last = self._check_out_indices(out_indices, 4)[-1]
        self.stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
        self.layers = nn.ModuleList(
            [net.layer1, net.layer2, net.layer3, net.layer4][:last + 1])
        self.ignored_prefixes = ('fc.', ) + tuple(
            f'layer{i + 1}.' for i in range(last + 1, 4))
        expansion = 4 if depth >= 50 else 1
        self.stage_channels = [64] + [
            64 * 2**i * expansion for i in range(last + 1)]
        self._setup(out_indices, frozen_stages, norm_eval, with_cp)
        self.weight_enums = (f'ResNet{depth}_Weights', )
        self._set_weights(weights)

    def stage_modules(self):
        return [self.stem] + list(self.layers)

    def convert_pretrained_key(self, key):
        for src, dst in (('conv1.', 'stem.0.'), ('bn1.', 'stem.1.')):
            if key.startswith(src):
                return dst + key[len(src):]
        if key.startswith('layer') and key[5:6].isdigit():
            return f'layers.{int(key[5]) - 1}' + key[6:]
        return key
