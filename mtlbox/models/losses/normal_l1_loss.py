"""L1 loss between unit surface normals."""
import torch.nn.functional as F
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .utils import check_shapes, masked_mean, with_avg_factor


@MODELS.register_module()
class NormalL1Loss(nn.Module):
    """``sum_c |n_pred,c - n_gt,c|`` between the L2-normalised prediction
    and the ground-truth unit normal, averaged over valid pixels (ground
    truth not all zero; as ASTMT / MTI-Net). Shapes: [B, 3, H, W] ->
    scalar or [B]."""

    loss_name = 'loss_l1'

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, pred: Tensor, target: Tensor, per_sample=False,
                return_avg_factor: bool = False):
        check_shapes(pred, target, 'NormalL1Loss')
        valid = target.abs().sum(dim=1) > 0
        diff = (F.normalize(pred, dim=1) - target).abs().sum(dim=1)
        mean, count = masked_mean(diff, valid, per_sample, return_count=True)
        return with_avg_factor(self.loss_weight * mean, count,
                               return_avg_factor)
