"""Multi-Task Attention Network over shared multi-level features."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .base import BaseArchitecture


def _resize(x: Tensor, ref: Tensor) -> Tensor:
    """Max-pool down (as MTAN's pooling between stages) or nearest up."""
    size = ref.shape[-2:]
    if x.shape[-2:] == size:
        return x
    if x.shape[-2] >= size[0] and x.shape[-1] >= size[1]:
        return F.adaptive_max_pool2d(x, size)
    return F.interpolate(x, size=size, mode='nearest')


@MODELS.register_module()
class MTAN(BaseArchitecture):
    """Task attention modules over the shared levels.

    Liu, Johns & Davison, "End-to-End Multi-Task Learning with Attention",
    CVPR 2019.

    For each task t and level l (``f_l``: shared map ``[N, C_l, H_l, W_l]``):

    - ``u_0 = f_0``; ``u_l = [f_l ; pool(g_{l-1}(a^t_{l-1}))]`` for l > 0,
      where ``g_{l-1}`` is a shared ``3x3 conv (C_{l-1} -> C_l) -> BN ->
      ReLU`` and ``pool`` max-pools to level l's size;
    - mask ``m^t_l = sigmoid(BN(1x1(ReLU(BN(1x1(u_l))))))`` (``C_l``
      channels; a task-specific attention module);
    - ``a^t_l = m^t_l * f_l``. Task t receives ``[a^t_0, .., a^t_{L-1}]``.

    Difference from the paper: the paper computes the mask from a block's
    intermediate features and applies it to the block output; here both
    are the level map the backbone/neck returns, so MTAN works on any
    trunk. The shared ``g_l`` are, as in the paper's code, shared by the
    tasks.

    Sharing: the ``g_l`` transitions are shared; each task's attention
    modules (``attention.<task>``) are task-specific.

    Args:
        in_channels: channels of the input levels (finest first).
        tasks: task names (set by the model).
        mask_channels: hidden width of the attention modules per level
            (default ``C_l``).
    """

    def __init__(self, in_channels: Sequence[int], tasks: Sequence[str] = (),
                 mask_channels: Optional[Sequence[int]] = None):
        super().__init__(tasks)
        self.in_channels = list(in_channels)
        mask_channels = list(mask_channels or in_channels)
        if len(mask_channels) != len(self.in_channels):
            raise ValueError(f'MTAN mask_channels={mask_channels} needs one '
                             f'width per level of in_channels={in_channels}')
        self.transitions = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))
            for c_in, c_out in zip(self.in_channels[:-1],
                                   self.in_channels[1:]))
        self.attention = nn.ModuleDict()
        for task in self.tasks:
            self.attention[task] = nn.ModuleList(
                self._attention(c * (1 if l == 0 else 2), m, c)
                for l, (c, m) in enumerate(zip(self.in_channels,
                                               mask_channels)))

    @staticmethod
    def _attention(c_in, c_mid, c_out):
        return nn.Sequential(
            nn.Conv2d(c_in, c_mid, 1, bias=False), nn.BatchNorm2d(c_mid),
            nn.ReLU(inplace=True), nn.Conv2d(c_mid, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out), nn.Sigmoid())

    def forward(self, feats: List[Tensor],
                tasks: List[str]) -> Dict[str, List[Tensor]]:
        if len(feats) != len(self.in_channels):
            raise ValueError(f'MTAN built for in_channels={self.in_channels}'
                             f' got {len(feats)} maps')
        out = {}
        for task in tasks:
            attended = []
            for l, (f, att) in enumerate(zip(feats, self.attention[task])):
                u = f if l == 0 else torch.cat(
                    [f, _resize(self.transitions[l - 1](attended[-1]), f)],
                    dim=1)
                attended.append(att(u) * f)
            out[task] = attended
        return out

    def task_parameters(self, task: str) -> List[nn.Parameter]:
        return list(self.attention[task].parameters())
