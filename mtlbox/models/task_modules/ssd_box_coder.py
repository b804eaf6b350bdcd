"""SSD box encoding with variances (Liu et al., ECCV 2016)."""
import math
from typing import Sequence

import torch
from torch import Tensor

from mtlbox.registry import TASK_UTILS

#: largest log-scale a decoded delta may have (as in Faster R-CNN code)
MAX_LOG_SCALE = math.log(1000.0 / 16)


def _cxcywh(boxes: Tensor):
    w = boxes[..., 2] - boxes[..., 0]
    h = boxes[..., 3] - boxes[..., 1]
    return boxes[..., 0] + 0.5 * w, boxes[..., 1] + 0.5 * h, w, h


def encode_ssd(anchors: Tensor, boxes: Tensor,
               variances: Sequence[float] = (0.1, 0.2)) -> Tensor:
    """Deltas [..., 4] of ``boxes`` relative to ``anchors`` (both xyxy):

    ``dx = (gx - ax) / (v0 aw)``, ``dy = (gy - ay) / (v0 ah)``,
    ``dw = log(gw / aw) / v1``, ``dh = log(gh / ah) / v1``
    with centres ``(x, y)`` and sizes ``(w, h)``.
    """
    ax, ay, aw, ah = _cxcywh(anchors)
    gx, gy, gw, gh = _cxcywh(boxes)
    eps = torch.finfo(boxes.dtype).eps
    v0, v1 = variances
    return torch.stack([
        (gx - ax) / (v0 * aw), (gy - ay) / (v0 * ah),
        torch.log(gw.clamp(min=eps) / aw) / v1,
        torch.log(gh.clamp(min=eps) / ah) / v1
    ], dim=-1)


def decode_ssd(anchors: Tensor, deltas: Tensor,
               variances: Sequence[float] = (0.1, 0.2)) -> Tensor:
    """Inverse of :func:`encode_ssd`: xyxy boxes [..., 4]. The log-scales
    ``v1 * dw`` are clamped to ``log(1000 / 16)`` so exp cannot overflow."""
    ax, ay, aw, ah = _cxcywh(anchors)
    v0, v1 = variances
    cx = ax + deltas[..., 0] * v0 * aw
    cy = ay + deltas[..., 1] * v0 * ah
    w = aw * torch.exp((deltas[..., 2] * v1).clamp(max=MAX_LOG_SCALE))
    h = ah * torch.exp((deltas[..., 3] * v1).clamp(max=MAX_LOG_SCALE))
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2],
                       dim=-1)


@TASK_UTILS.register_module()
class SSDBoxCoder:
    """:func:`encode_ssd` / :func:`decode_ssd` with fixed ``variances``."""

    def __init__(self, variances: Sequence[float] = (0.1, 0.2)):
        if len(variances) != 2 or min(variances) <= 0:
            raise ValueError(f'SSDBoxCoder variances={variances}: need two '
                             'positive numbers (centre, size), e.g. '
                             '(0.1, 0.2)')
        self.variances = tuple(float(v) for v in variances)

    def encode(self, anchors: Tensor, boxes: Tensor) -> Tensor:
        return encode_ssd(anchors, boxes, self.variances)

    def decode(self, anchors: Tensor, deltas: Tensor) -> Tensor:
        return decode_ssd(anchors, deltas, self.variances)
