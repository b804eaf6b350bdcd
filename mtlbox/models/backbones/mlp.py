"""Fully connected backbone for vector inputs (toy regression)."""
from typing import List, Sequence

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .base_backbone import maybe_checkpoint


@MODELS.register_module()
class MLP(BaseModule):
    """Shared fully connected trunk: ``Linear -> ReLU`` per entry of
    ``hidden`` (GradNorm's toy regression: four layers of 100 units).

    Shapes: input [B, in_dim] (or a list of B vectors [in_dim], as
    ``pseudo_collate`` leaves ``PackVectorInputs`` samples; they are
    stacked) -> a list with one [B, hidden[-1]] tensor.
    ``out_channels = [hidden[-1]]``.

    Args:
        in_dim: input features D.
        hidden: widths of the layers.
        with_cp: activation checkpointing of the layers.
    """

    def __init__(self, in_dim: int, hidden: Sequence[int] = (100, 100, 100,
                                                            100),
                 with_cp: bool = False, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.with_cp = with_cp
        if not hidden:
            raise ValueError('MLP needs at least one hidden layer')
        layers, width = [], in_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU(inplace=True)]
            width = h
        self.layers = nn.Sequential(*layers)
        self.in_dim = in_dim
        self.out_channels = [width]

    def forward(self, x) -> List[Tensor]:
        if isinstance(x, (list, tuple)):
            x = torch.stack(list(x))
        if x.dim() != 2 or x.shape[1] != self.in_dim:
            raise ValueError(f'MLP(in_dim={self.in_dim}) expects [B, '
                             f'{self.in_dim}] inputs, got {tuple(x.shape)}')
        return [maybe_checkpoint(self.layers, x.float(), self.with_cp)]
