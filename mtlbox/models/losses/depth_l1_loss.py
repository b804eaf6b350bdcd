"""Masked L1 loss for depth."""
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .utils import check_shapes, masked_mean, with_avg_factor


@MODELS.register_module()
class DepthL1Loss(nn.Module):
    """``|d_pred - d_gt|`` averaged over valid pixels
    (``invalid_value < d_gt <= max_depth``).

    Shapes: pred, target [B, 1, H, W] metres -> scalar or [B].
    """

    loss_name = 'loss_l1'

    def __init__(self, invalid_value: float = 0.0, loss_weight: float = 1.0,
                 max_depth: float = float('inf')):
        super().__init__()
        self.invalid_value = invalid_value
        self.loss_weight = loss_weight
        self.max_depth = max_depth

    def forward(self, pred: Tensor, target: Tensor, per_sample=False,
                return_avg_factor: bool = False):
        check_shapes(pred, target, 'DepthL1Loss')
        valid = (target[:, 0] > self.invalid_value) & (
            target[:, 0] <= self.max_depth)
        loss = (pred[:, 0] - target[:, 0]).abs()
        mean, count = masked_mean(loss, valid, per_sample, return_count=True)
        return with_avg_factor(self.loss_weight * mean, count,
                               return_avg_factor)
