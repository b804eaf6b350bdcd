"""Cosine loss for surface normals."""
import torch.nn.functional as F
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .utils import check_shapes, masked_mean, with_avg_factor


@MODELS.register_module()
class NormalCosineLoss(nn.Module):
    """``1 - cos(n_pred, n_gt)`` averaged over valid pixels.

    A pixel is valid when its ground-truth normal is not all zero. The
    prediction is L2-normalised first. Shapes: [B, 3, H, W] -> scalar or [B].
    """

    loss_name = 'loss_cos'

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, pred: Tensor, target: Tensor, per_sample=False,
                return_avg_factor: bool = False):
        check_shapes(pred, target, 'NormalCosineLoss')
        valid = target.abs().sum(dim=1) > 0
        cos = (F.normalize(pred, dim=1) * target).sum(dim=1)
        mean, count = masked_mean(1 - cos, valid, per_sample,
                                  return_count=True)
        return with_avg_factor(self.loss_weight * mean, count,
                               return_avg_factor)

