"""Atrous spatial pyramid pooling (DeepLab-v3) as a shared neck."""
from typing import List, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mtlbox.registry import MODELS
from ..backbones.base_backbone import maybe_checkpoint


def _conv_bn_relu(cin, cout, k=1, dilation=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, padding=dilation * (k // 2),
                  dilation=dilation, bias=False), nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True))


@MODELS.register_module()
class ASPP(BaseModule):
    """ASPP of Chen et al., "Rethinking Atrous Convolution for Semantic
    Image Segmentation" (DeepLab-v3), 2017.

    On the input level ``in_index`` (default the last): a 1x1 branch, one
    3x3 branch per rate in ``dilations``, and image pooling (global average
    -> 1x1 -> broadcast), each ``conv -> BN -> ReLU`` to ``channels``;
    concatenated and projected ``1x1 -> BN -> ReLU -> Dropout``. With a
    batch of one in training the pooling branch's BN uses its running
    statistics (a 1x1 map has one value per channel).

    Shapes: ``[N, in_channels, H, W] -> [[N, channels, H, W]]``.

    In the DeepLab ResNet-50 MTL model of LibMTL/AMTL each task's decoder has
    its own ASPP; used as a neck here it is shared (hard parameter sharing
    up to the ASPP), and each task head adds its own 3x3 conv-BN-ReLU + 1x1.

    Args:
        in_channels: channels of the input level (int).
        channels: branch and output width (256).
        dilations: atrous rates (DeepLab-v3 at output stride 8: 12, 24, 36).
        dropout: dropout after the projection (torchvision: 0.5).
        in_index: which input level to use.
        with_cp: activation checkpointing of every branch and of the
            projection.
    """

    def __init__(self, in_channels: int, channels: int = 256,
                 dilations: Sequence[int] = (12, 24, 36),
                 dropout: float = 0.5, in_index: int = -1,
                 with_cp: bool = False, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.with_cp = with_cp
        if not isinstance(in_channels, int):
            raise TypeError(f'ASPP in_channels={in_channels} must be one int '
                            '(the channels of the level in_index)')
        self.in_index = in_index
        self.branches = nn.ModuleList([_conv_bn_relu(in_channels, channels)])
        self.branches.extend(
            _conv_bn_relu(in_channels, channels, 3, d) for d in dilations)
        self.image_pool = _conv_bn_relu(in_channels, channels)
        self.project = nn.Sequential(
            _conv_bn_relu(channels * (len(dilations) + 2), channels),
            nn.Dropout(dropout))
        self.out_channels = [channels]

    def forward(self, feats: List[Tensor]) -> List[Tensor]:
        x = feats[self.in_index]
        cp = self.with_cp
        outs = [maybe_checkpoint(b, x, cp) for b in self.branches]
        pooled = F.adaptive_avg_pool2d(x, 1)
        conv, bn, relu = self.image_pool
        if self.training and x.shape[0] == 1:
            # one value per channel: normalise with the running statistics
            pooled = relu(F.batch_norm(conv(pooled), bn.running_mean,
                                       bn.running_var, bn.weight, bn.bias,
                                       False, 0.0, bn.eps))
        else:
            pooled = self.image_pool(pooled)
        outs.append(pooled.expand(-1, -1, *x.shape[-2:]))
        return [maybe_checkpoint(self.project, torch.cat(outs, dim=1), cp)]
