"""The TRIV2-BiFPN neck of the VMM model (AMTL, ICCV 2023)."""
from typing import List, Sequence

import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mtlbox.registry import MODELS
from ..backbones.base_backbone import maybe_checkpoint


class MBConv(nn.Sequential):
    """Inverted residual (MobileNet-V2) block without SE:
    ``1x1 (C_in -> e*C_in) -> BN -> act -> DW kxk/stride -> BN -> act ->
    1x1 (-> C_out) -> BN``, plus identity when stride 1 and C_in == C_out.

    Sandler et al., CVPR 2018. Shapes ``[N, C_in, H, W] -> [N, C_out,
    ceil(H/s), ceil(W/s)]``.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int = 3, stride: int = 1, expand_ratio: int = 2,
                 act=nn.ReLU6):
        hidden = in_channels * expand_ratio
        super().__init__(
            nn.Conv2d(in_channels, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden), act(inplace=True),
            nn.Conv2d(hidden, hidden, kernel_size, stride, kernel_size // 2,
                      groups=hidden, bias=False),
            nn.BatchNorm2d(hidden), act(inplace=True),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels))
        self.use_residual = stride == 1 and in_channels == out_channels

    def forward(self, x):
        out = super().forward(x)
        return x + out if self.use_residual else out


def _resize_to(x: Tensor, ref: Tensor) -> Tensor:
    if x.shape[-2:] == ref.shape[-2:]:
        return x
    return F.interpolate(x, size=ref.shape[-2:], mode='nearest')


@MODELS.register_module()
class TRIV2BiFPN(BaseModule):
    """Transitions + ``num_repeats`` light bidirectional pyramid passes.

    From the VMM model of Yun & Cho, "Achievement-based Training Progress
    Balancing for Multi-Task Learning", ICCV 2023 (AMTL).

    1. transitions: per level ``1x1 conv -> BN -> ReLU6`` to
       ``out_channels``;
    2. each repeat, for levels ``P_0`` (finest) .. ``P_{L-1}``:
       top-down ``T_{L-1} = P_{L-1}``, ``T_l = P_l + up2(T_{l+1})``
       (nearest, parameter-free); bottom-up ``O_0 = T_0``,
       ``O_l = T_l + MBConv_s2(O_{l-1})`` with an MBConv of expand 2,
       kernel 3, stride 2, ReLU6 (one per level and repeat).

    Shapes: ``[N, C_l, H_l, W_l]`` for each level -> ``[N, out_channels,
    H_l, W_l]`` (same sizes; nearest resizing absorbs odd sizes).

    Args:
        in_channels: channels of the input levels, finest first (VMM:
            ``[64, 160, 256]`` at strides 8/16/32).
        out_channels: common width (VMM: 64).
        num_repeats: stacked passes (VMM: 2).
        with_cp: activation checkpointing of every transition and MBConv.
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int = 64,
                 num_repeats: int = 2, with_cp: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.with_cp = with_cp
        if len(in_channels) < 2:
            raise ValueError(f'TRIV2BiFPN in_channels={in_channels} needs at '
                             'least two levels')
        self.in_channels = list(in_channels)
        self.transitions = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(c, out_channels, 1, bias=False),
                nn.BatchNorm2d(out_channels), nn.ReLU6(inplace=True))
            for c in in_channels)
        self.bottom_up = nn.ModuleList(
            nn.ModuleList(
                MBConv(out_channels, out_channels, 3, 2, expand_ratio=2)
                for _ in range(len(in_channels) - 1))
            for _ in range(num_repeats))
        self.out_channels = [out_channels] * len(in_channels)

    def forward(self, feats: List[Tensor]) -> List[Tensor]:
        if len(feats) != len(self.transitions):
            raise ValueError(f'TRIV2BiFPN built for {len(self.transitions)} '
                             f'levels (in_channels={self.in_channels}) got '
                             f'{len(feats)} maps; match the backbone '
                             'out_indices')
        cp = self.with_cp
        x = [maybe_checkpoint(t, f, cp)
             for t, f in zip(self.transitions, feats)]
        for convs in self.bottom_up:
            top_down = [x[-1]]
            for level in reversed(x[:-1]):
                top_down.insert(0, level + _resize_to(top_down[0], level))
            out = [top_down[0]]
            for level, conv in zip(top_down[1:], convs):
                out.append(level + _resize_to(
                    maybe_checkpoint(conv, out[-1], cp), level))
            x = out
        return x
