"""Masked L1 between images (enhancement)."""
from typing import Optional

import torch
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .utils import check_shapes, masked_mean, with_avg_factor


@MODELS.register_module()
class PixelL1Loss(nn.Module):
    """``|pred - target|`` averaged over channels and valid pixels.
    Shapes: [B, C, H, W], optional ``valid`` [B, H, W] -> scalar or [B]."""

    loss_name = 'loss_l1'

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, pred: Tensor, target: Tensor,
                valid: Optional[Tensor] = None, per_sample=False,
                return_avg_factor: bool = False):
        check_shapes(pred, target, 'PixelL1Loss')
        loss = (pred - target).abs().mean(dim=1)
        if valid is None:
            valid = torch.ones_like(loss, dtype=torch.bool)
        mean, count = masked_mean(loss, valid, per_sample, return_count=True)
        return with_avg_factor(self.loss_weight * mean, count,
                               return_avg_factor)
