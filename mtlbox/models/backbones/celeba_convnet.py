"""The convolutional network of the Nash-MTL / FAMO CelebA benchmark."""
from typing import List

from mmengine.model import BaseModule
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .base_backbone import maybe_checkpoint


def _conv(c_in, c_out):
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


def _fc(c_in, c_out):
    return [nn.Linear(c_in, c_out, bias=False), nn.BatchNorm1d(c_out),
            nn.ReLU(inplace=True)]


@MODELS.register_module()
class CelebAConvNet(BaseModule):
    """Shared network of the 40-attribute CelebA benchmark (FAMO, Liu et
    al. NeurIPS 2023, ``experiments/celeba/models.py``; also FairGrad and
    ConFIG).

    ``[N, 3, 64, 64]`` -> conv 64, maxpool -> conv 128, conv 128, maxpool
    -> conv 256, conv 256, maxpool -> conv 512, conv 512 (3x3, no bias, BN,
    ReLU each) -> global average pool -> 2 x (Linear 512 -> 512 without
    bias, BN1d, ReLU) -> ``[N, 512, 1, 1]`` (one level, so that the
    classification heads' pooling is the identity). PyTorch's default
    initialisation, as the reference. 5,176,640 parameters.

    ``with_cp=True``: activation checkpointing of the conv part and of the
    linear part (loss and gradients unchanged).
    """

    def __init__(self, in_channels: int = 3, with_cp: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.with_cp = with_cp
        self.features = nn.Sequential(
            *_conv(in_channels, 64), nn.MaxPool2d(2),
            *_conv(64, 128), *_conv(128, 128), nn.MaxPool2d(2),
            *_conv(128, 256), *_conv(256, 256), nn.MaxPool2d(2),
            *_conv(256, 512), *_conv(512, 512),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Sequential(*_fc(512, 512), *_fc(512, 512))
        self.out_channels = [512]

    def forward(self, x: Tensor) -> List[Tensor]:
        x = maybe_checkpoint(self.features, x, self.with_cp)
        return [maybe_checkpoint(self.fc, x, self.with_cp)[:, :, None, None]]
