"""Anchor boxes on the grid of each feature level."""
import math
from typing import List, Sequence, Tuple

import torch
from torch import Tensor

from mtlbox.registry import TASK_UTILS


def grid_anchors(feat_size: Tuple[int, int], stride: float, size: float,
                 ratios: Sequence[float], device=None) -> Tensor:
    """Anchors of one level as xyxy pixels, shape [H * W * A, 4].

    Location ``(y, x)`` has centre ``((x + 0.5) * stride, (y + 0.5) *
    stride)``; anchor ``a`` has ratio ``r = h / w`` and area ``size**2``:
    ``w = size / sqrt(r)``, ``h = size * sqrt(r)``. Order: row-major over
    locations, the ``A = len(ratios)`` anchors of a location consecutive --
    the order of ``conv_out.permute(0, 2, 3, 1).reshape(B, -1, K)`` with
    ``A * K`` output channels.
    """
    h, w = feat_size
    ratios = torch.as_tensor(list(ratios), dtype=torch.float32, device=device)
    aw = size / ratios.sqrt()
    ah = size * ratios.sqrt()
    ys = (torch.arange(h, dtype=torch.float32, device=device) + 0.5) * stride
    xs = (torch.arange(w, dtype=torch.float32, device=device) + 0.5) * stride
    cy, cx = torch.meshgrid(ys, xs, indexing='ij')
    cx = cx.reshape(-1, 1)
    cy = cy.reshape(-1, 1)
    boxes = torch.stack([cx - aw / 2, cy - ah / 2, cx + aw / 2, cy + ah / 2],
                        dim=-1)  # [HW, A, 4]
    return boxes.reshape(-1, 4)


@TASK_UTILS.register_module()
class AnchorGenerator:
    """``len(ratios)`` anchors per location on every level.

    Args:
        strides: stride of each level in input pixels (e.g. ``(8, 16, 32)``).
        sizes: anchor side (square-root area) per level, e.g.
            ``(32, 64, 128)`` (the VMM setting of AMTL).
        ratios: height / width ratios, default ``(1, 2, 0.5)``.
    """

    def __init__(self, strides: Sequence[float] = (8, 16, 32),
                 sizes: Sequence[float] = (32, 64, 128),
                 ratios: Sequence[float] = (1.0, 2.0, 0.5)):
        if len(strides) != len(sizes):
            raise ValueError(f'AnchorGenerator: strides={list(strides)} and '
                             f'sizes={list(sizes)} need one entry per level')
        if any(r <= 0 or not math.isfinite(r) for r in ratios):
            raise ValueError(f'AnchorGenerator ratios={list(ratios)} must be '
                             'positive')
        self.strides = list(strides)
        self.sizes = list(sizes)
        self.ratios = list(ratios)

    @property
    def num_anchors(self) -> int:
        """Anchors per location."""
        return len(self.ratios)

    @property
    def num_levels(self) -> int:
        return len(self.strides)

    def __call__(self, feat_sizes: Sequence[Tuple[int, int]],
                 device=None) -> List[Tensor]:
        """Per-level anchors ``[H_l * W_l * A, 4]`` for the given map sizes."""
        if len(feat_sizes) != self.num_levels:
            raise ValueError(f'AnchorGenerator has {self.num_levels} levels '
                             f'(strides {self.strides}) but got '
                             f'{len(feat_sizes)} feature maps; set strides/'
                             'sizes to match the neck outputs')
        return [
            grid_anchors(tuple(s), stride, size, self.ratios, device)
            for s, stride, size in zip(feat_sizes, self.strides, self.sizes)
        ]
