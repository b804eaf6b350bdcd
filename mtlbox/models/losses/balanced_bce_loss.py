"""Binary cross entropy for saliency and edges, optionally class-balanced."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .utils import check_shapes, masked_mean, with_avg_factor


def check_binary(target: Tensor, valid: Tensor) -> None:
    """Targets of valid pixels must be 0/1 (integers) or in [0, 1]."""
    if target.is_floating_point():
        bad = valid & ((target < 0) | (target > 1))
    else:
        bad = valid & (target != 0) & (target != 1)
    if bool(bad.any()):
        values = torch.unique(target[bad]).tolist()
        raise ValueError(
            f'BalancedBCELoss: target value {values[0]} (bad values '
            f'{values[:10]}) is not a binary label 0/1 or the ignore index; '
            'binary maps are loaded as 0/1 (saliency > 127, edge > 0)')


@MODELS.register_module()
class BalancedBCELoss(nn.Module):
    """Weighted binary cross entropy on logits, ignoring ``ignore_index``.

    ``l = -(w_+ y log p + w_- (1 - y) log(1 - p))``, averaged over valid
    pixels, with

    - ``pos_weight=None, balanced=True`` (HED, Xie & Tu, ICCV 2015):
      ``w_+ = |Y-| / |Y|``, ``w_- = |Y+| / |Y|`` from the valid pixels of
      the batch (the rare edge pixels weigh more);
    - ``pos_weight=w`` (e.g. 0.95 as ASTMT for edges): ``w_+ = w``,
      ``w_- = 1 - w``;
    - ``balanced=False``: plain BCE (``w_+ = w_- = 1``; saliency).

    Shapes: logits [B, 1, H, W] or [B, H, W], target same (0/1, long or
    float) -> scalar or [B]. An integer target other than 0, 1 and
    ``ignore_index`` (or a float one outside [0, 1]) raises ``ValueError``:
    BCE would silently train on it.
    """

    loss_name = 'loss_bce'

    def __init__(self, balanced: bool = True,
                 pos_weight: Optional[float] = None,
                 ignore_index: int = 255, loss_weight: float = 1.0):
        super().__init__()
        if pos_weight is not None and not 0 < pos_weight < 1:
            raise ValueError(f'BalancedBCELoss pos_weight={pos_weight} must '
                             'be in (0, 1)')
        self.balanced, self.pos_weight = balanced, pos_weight
        self.ignore_index, self.loss_weight = ignore_index, loss_weight

    def forward(self, logits: Tensor, target: Tensor, per_sample=False,
                return_avg_factor: bool = False):
        if logits.dim() == 4:
            logits = logits[:, 0]
        if target.dim() == 4:
            target = target[:, 0]
        check_shapes(logits, target, 'BalancedBCELoss')
        valid = target != self.ignore_index
        check_binary(target, valid)
        y = torch.where(valid, target, torch.zeros_like(target)).to(
            logits.dtype)
        if self.pos_weight is not None:
            w_pos, w_neg = self.pos_weight, 1 - self.pos_weight
        elif self.balanced:
            n = valid.sum().clamp(min=1).to(logits.dtype)
            n_pos = (y * valid).sum()
            w_pos, w_neg = (n - n_pos) / n, n_pos / n
        else:
            w_pos = w_neg = 1.0
        weight = y * w_pos + (1 - y) * w_neg
        loss = F.binary_cross_entropy_with_logits(logits, y, reduction='none')
        mean, count = masked_mean(loss * weight, valid, per_sample,
                                  return_count=True)
        return with_avg_factor(self.loss_weight * mean, count,
                               return_avg_factor)
