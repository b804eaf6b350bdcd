"""Scale-invariant logarithmic depth loss."""
import torch
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .utils import check_shapes, with_avg_factor


@MODELS.register_module()
class SILogLoss(nn.Module):
    """``sqrt(mean(d^2) - lambda mean(d)^2)`` with ``d = log p - log g``
    over valid pixels (Eigen et al., NeurIPS 2014; ``lambda = 0.85`` as
    BTS, which also multiplies by 10 -- here ``loss_weight``).

    Valid: ``invalid_value < g <= max_depth``. Shapes [B, 1, H, W] ->
    scalar (all valid pixels of the batch) or [B] (per image).
    """

    loss_name = 'loss_silog'

    def __init__(self, variance_focus: float = 0.85,
                 invalid_value: float = 0.0, max_depth: float = float('inf'),
                 loss_weight: float = 1.0, eps: float = 1e-6):
        super().__init__()
        self.variance_focus = variance_focus
        self.invalid_value, self.max_depth = invalid_value, max_depth
        self.loss_weight, self.eps = loss_weight, eps

    def forward(self, pred: Tensor, target: Tensor, per_sample=False,
                return_avg_factor: bool = False):
        """The loss; with ``return_avg_factor`` also the number of valid
        pixels (not an exact divisor of this non-linear loss: data
        parallelism rescales by it as for the L1 term it is paired with)."""
        check_shapes(pred, target, 'SILogLoss')
        valid = (target > self.invalid_value) & (target <= self.max_depth)
        valid = valid.flatten(1).to(pred.dtype)
        safe = torch.where(valid.bool(), target.flatten(1),
                           torch.ones_like(target.flatten(1)))
        d = (pred.flatten(1).clamp(min=self.eps).log() - safe.log()) * valid
        if per_sample:
            n = valid.sum(1).clamp(min=1)
            m1, m2 = d.sum(1) / n, (d**2).sum(1) / n
        else:
            n = valid.sum().clamp(min=1)
            m1, m2 = d.sum() / n, (d**2).sum() / n
        var = (m2 - self.variance_focus * m1**2).clamp(min=0)
        return with_avg_factor(self.loss_weight * (var + self.eps).sqrt(),
                               valid.sum(), return_avg_factor)
