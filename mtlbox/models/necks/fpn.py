"""Feature pyramid network."""
from typing import List

import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from mtlbox.registry import MODELS
from ..backbones.base_backbone import maybe_checkpoint


@MODELS.register_module()
class FPN(BaseModule):
    """Feature pyramid (Lin et al., CVPR 2017): 1x1 laterals, top-down
    nearest-neighbour upsampling with addition, 3x3 output convs.

    Args:
        in_channels: channels of each input level (finest first).
        out_channels: channels of every output level.
        with_cp: activation checkpointing of every lateral and output conv.
    """

    def __init__(self, in_channels: List[int], out_channels: int = 64,
                 with_cp: bool = False, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.with_cp = with_cp
        self.lateral = nn.ModuleList(
            nn.Conv2d(c, out_channels, 1) for c in in_channels)
        self.output = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(out_channels, out_channels, 3, padding=1,
                          bias=False), nn.BatchNorm2d(out_channels),
                nn.ReLU(inplace=True)) for _ in in_channels)
        self.out_channels = [out_channels] * len(in_channels)

    def forward(self, feats):
        if len(feats) != len(self.lateral):
            raise ValueError(f'FPN built for {len(self.lateral)} levels got '
                             f'{len(feats)}')
        cp = self.with_cp
        laterals = [maybe_checkpoint(conv, x, cp)
                    for conv, x in zip(self.lateral, feats)]
        for i in range(len(laterals) - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + F.interpolate(
                laterals[i], size=laterals[i - 1].shape[-2:], mode='nearest')
        return [maybe_checkpoint(conv, x, cp)
                for conv, x in zip(self.output, laterals)]
