"""Building blocks of the mixture-of-experts architectures (MMoE, CGC,
PLE, DSelect-k) over multi-level feature maps."""
from typing import List, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class ConvExpert(nn.Module):
    """One expert over all levels: per level ``3x3 conv -> BN -> ReLU``
    (``[N, C_l, H_l, W_l] -> [N, C_l, H_l, W_l]``)."""

    def __init__(self, in_channels: Sequence[int]):
        super().__init__()
        self.levels = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(c, c, 3, padding=1, bias=False),
                nn.BatchNorm2d(c), nn.ReLU(inplace=True))
            for c in in_channels)

    def forward(self, feats: List[Tensor]) -> List[Tensor]:
        return [m(f) for m, f in zip(self.levels, feats)]


def describe(feats: List[Tensor]) -> Tensor:
    """Gate input: global average of every level, concatenated
    (``[N, sum_l C_l]``)."""
    return torch.cat([f.mean(dim=(2, 3)) for f in feats], dim=1)


class SoftmaxGate(nn.Module):
    """``w = softmax(W d + b)``: ``[N, D] -> [N, E]`` (rows sum to 1)."""

    def __init__(self, in_features: int, num_experts: int):
        super().__init__()
        self.linear = nn.Linear(in_features, num_experts)

    def forward(self, d: Tensor) -> Tensor:
        return F.softmax(self.linear(d), dim=-1)


def combine(weights: Tensor, expert_outs: List[List[Tensor]]) -> List[Tensor]:
    """``sum_e w[:, e] * y_e`` per level; ``weights [N, E]``,
    ``expert_outs[e][l]: [N, C_l, H_l, W_l]``."""
    levels = []
    for l in range(len(expert_outs[0])):
        stacked = torch.stack([y[l] for y in expert_outs], dim=1)
        levels.append(torch.einsum('ne,nechw->nchw', weights, stacked))
    return levels
