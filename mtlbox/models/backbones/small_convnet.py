"""A LeNet-style backbone for small images (Multi-MNIST, digits)."""
from typing import List, Optional, Sequence

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .base_backbone import maybe_checkpoint


@MODELS.register_module()
class SmallConvNet(BaseModule):
    """LeNet-style shared encoder of the Multi-MNIST experiments (MGDA,
    SLGrad): per entry of ``channels`` a 5x5 convolution (no padding),
    2x2 max-pool and ReLU; then, if ``fc_channels`` is set, flatten and a
    linear layer + ReLU.

    Shapes: input [B, in_channels, H, W] (28x28 with the defaults gives a
    [B, 20, 4, 4] map) -> a list with one map: [B, fc_channels, 1, 1] with
    ``fc_channels`` (so a pooling head such as ``ClsHead`` sees the whole
    vector, position included) or the last conv map [B, C, h, w] without.
    ``out_channels`` lists the channels of that map.

    Args:
        in_channels: input channels (1 for grey digits).
        channels: output channels of the conv stages.
        fc_channels: width of the shared linear layer (None: no layer).
        input_size: (H, W) the linear layer is sized for (needed only with
            ``fc_channels``).
        with_cp: activation checkpointing of the conv and linear parts.
    """

    def __init__(self, in_channels: int = 1,
                 channels: Sequence[int] = (10, 20),
                 fc_channels: Optional[int] = 50,
                 input_size: Sequence[int] = (28, 28),
                 with_cp: bool = False, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.with_cp = with_cp
        layers, c = [], in_channels
        h, w = input_size
        for out in channels:
            layers += [nn.Conv2d(c, out, 5), nn.MaxPool2d(2),
                       nn.ReLU(inplace=True)]
            c, h, w = out, (h - 4) // 2, (w - 4) // 2
        if h < 1 or w < 1:
            raise ValueError(f'SmallConvNet: input_size={tuple(input_size)} '
                             f'is too small for {len(channels)} stages')
        self.features = nn.Sequential(*layers)
        self.in_channels = in_channels
        self.map_size = (h, w)
        self.fc = None
        if fc_channels is not None:
            self.fc = nn.Sequential(nn.Linear(c * h * w, fc_channels),
                                    nn.ReLU(inplace=True))
            c = fc_channels
        self.out_channels = [c]

    def forward(self, x: Tensor) -> List[Tensor]:
        if x.shape[1] != self.in_channels:
            raise ValueError(f'SmallConvNet(in_channels={self.in_channels}) '
                             f'got a {x.shape[1]}-channel input; grey images '
                             'need in_channels=1 and a one-channel data '
                             'preprocessor (mean=(m, ), std=(s, ), '
                             'bgr_to_rgb=False)')
        x = maybe_checkpoint(self.features, x, self.with_cp)
        if self.fc is None:
            return [x]
        if tuple(x.shape[-2:]) != self.map_size:
            raise ValueError(f'SmallConvNet: the linear layer is sized for '
                             f'{self.map_size} maps, got {tuple(x.shape[-2:])}'
                             '; set input_size to the image size (and '
                             'pad_size_divisor=1 in the data preprocessor)')
        return [maybe_checkpoint(self.fc, torch.flatten(x, 1),
                                 self.with_cp)[..., None, None]]
