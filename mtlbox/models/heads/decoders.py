"""Feature decoders of the dense heads: multi-level maps -> one map.

A decoder takes the list of feature maps ``[B, C_l, H_l, W_l]`` (finest
first) and returns one map ``[B, out_channels, H, W]``; the dense head then
applies its per-task predictor. All are registered in ``MODELS``.
"""
from typing import List, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .layers import DSConv, conv_bn_act


def _as_list(in_channels) -> List[int]:
    return [in_channels] if isinstance(in_channels, int) else list(
        in_channels)


def resize_concat(feats: Sequence[Tensor], index: int = 0) -> Tensor:
    """Bilinearly resize every map to ``feats[index]``'s size and concat."""
    size = feats[index].shape[-2:]
    return torch.cat([
        x if x.shape[-2:] == size else F.interpolate(
            x, size=size, mode='bilinear', align_corners=False)
        for x in feats
    ], dim=1)


def _check_levels(name, feats, in_channels):
    if len(feats) != len(in_channels):
        raise ValueError(f'{name} expects {len(in_channels)} feature levels '
                         f'(in_channels={in_channels}), got {len(feats)}')


@MODELS.register_module()
class ConcatDecoder(nn.Module):
    """All levels resized (bilinear) to the finest one and concatenated
    (``sum(in_channels)`` channels, no parameters). The default decoder of
    :class:`BaseDenseHead`."""

    def __init__(self, in_channels: Union[int, Sequence[int]]):
        super().__init__()
        self.in_channels = _as_list(in_channels)
        self.out_channels = sum(self.in_channels)

    def forward(self, feats: List[Tensor]) -> Tensor:
        _check_levels('ConcatDecoder', feats, self.in_channels)
        return resize_concat(feats, 0)


@MODELS.register_module()
class ASPPDecoder(nn.Module):
    """Atrous Spatial Pyramid Pooling (DeepLabv3, Chen et al. 2017).

    On level ``in_index`` (default the last, the output-stride-8 map of a
    dilated ResNet): a 1x1 branch, one 3x3 branch per dilation in ``rates``
    (default 12/24/36) and an image-pooling branch (global average, 1x1,
    broadcast back), each ``channels`` wide with BN-ReLU; concatenated and
    projected by 1x1 conv-BN-ReLU to ``channels`` (default 256).

    Shapes: ``[B, in_ch, H, W] -> [B, channels, H, W]``.
    """

    def __init__(self, in_channels: Union[int, Sequence[int]],
                 channels: int = 256, rates: Sequence[int] = (12, 24, 36),
                 in_index: int = -1, dropout: float = 0.0):
        super().__init__()
        self.in_channels = _as_list(in_channels)
        self.in_index = in_index
        in_ch = self.in_channels[in_index]
        self.branches = nn.ModuleList([conv_bn_act(in_ch, channels, 1)] + [
            conv_bn_act(in_ch, channels, 3, dilation=r) for r in rates])
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), conv_bn_act(in_ch, channels, 1))
        self.project = nn.Sequential(
            conv_bn_act(channels * (len(rates) + 2), channels, 1),
            nn.Dropout2d(dropout))
        self.out_channels = channels

    def forward(self, feats: List[Tensor]) -> Tensor:
        _check_levels('ASPPDecoder', feats, self.in_channels)
        x = feats[self.in_index]
        outs = [branch(x) for branch in self.branches]
        # BN on a 1x1 pooled map needs > 1 value per channel in training
        pooled = self.image_pool[0](x)
        if self.training and pooled.shape[0] == 1:
            pooled = self.image_pool[1][0](pooled)
            pooled = self.image_pool[1][2](pooled)
        else:
            pooled = self.image_pool[1](pooled)
        outs.append(pooled.expand(-1, -1, *x.shape[-2:]))
        return self.project(torch.cat(outs, dim=1))


@MODELS.register_module()
class LightDecoder(nn.Module):
    """AMTL's light VMM dense decoder: every level upsampled (bilinear) to
    level ``target_index`` (stride 8 for the 8/16/32 VMM pyramid),
    concatenated (3 x 64 = 192 channels there), then a depthwise-separable
    3x3 conv to ``channels`` (64). Pair it with ``predictor='mbconv'`` in
    the head (MBConv -> C) to get the full VMM head.

    Shapes: levels ``[B, C_l, H_l, W_l]`` -> ``[B, channels, H_t, W_t]``.
    """

    def __init__(self, in_channels: Union[int, Sequence[int]],
                 channels: int = 64, target_index: int = 0):
        super().__init__()
        self.in_channels = _as_list(in_channels)
        self.target_index = target_index
        self.dsconv = DSConv(sum(self.in_channels), channels, 3)
        self.out_channels = channels

    def forward(self, feats: List[Tensor]) -> Tensor:
        _check_levels('LightDecoder', feats, self.in_channels)
        return self.dsconv(resize_concat(feats, self.target_index))
