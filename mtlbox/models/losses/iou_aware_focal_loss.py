"""IoU-aware sigmoid focal loss (classification of the detection head)."""
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mtlbox.registry import MODELS


def iou_aware_focal_loss(logits: Tensor, targets: Tensor, pos_mask: Tensor,
                         alpha: float = 0.25, gamma: float = 2.0) -> Tensor:
    """Element-wise focal loss with soft (IoU) targets, shape of ``logits``.

    ``p = sigmoid(x)``, ``t`` the target in [0, 1] (the IoU of the decoded
    box with its ground truth at the ground-truth class of a positive anchor,
    0 elsewhere)::

        loss = -a * |t - p|**gamma * (t log p + (1 - t) log(1 - p))
        a = alpha at positive entries (pos_mask), 1 - alpha elsewhere

    With ``t`` in {0, 1} this is exactly the sigmoid focal loss of Lin et
    al. (ICCV 2017); with a soft ``t`` the modulating factor ``|t - p|``
    is that of Quality Focal Loss (Li et al., NeurIPS 2020), so a positive
    is pushed towards its localisation quality. ``targets`` are treated as
    constants.

    Shapes: logits, targets, pos_mask [N, C] -> [N, C].
    """
    targets = targets.detach().to(logits.dtype)
    p = logits.sigmoid()
    bce = F.binary_cross_entropy_with_logits(logits, targets,
                                             reduction='none')
    weight = torch.where(pos_mask, torch.full_like(p, alpha),
                         torch.full_like(p, 1 - alpha))
    return weight * (targets - p).abs().pow(gamma) * bce


@MODELS.register_module()
class IoUAwareFocalLoss(nn.Module):
    """Module form of :func:`iou_aware_focal_loss`, summed and divided by
    ``avg_factor`` (the number of positives, at least 1).

    Args:
        alpha: weight of positive entries (negatives ``1 - alpha``).
        gamma: focusing exponent.
        loss_weight: multiplier.
    """

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0,
                 loss_weight: float = 1.0):
        super().__init__()
        if not 0 <= alpha <= 1:
            raise ValueError(f'IoUAwareFocalLoss alpha={alpha} not in [0, 1]')
        self.alpha, self.gamma, self.loss_weight = alpha, gamma, loss_weight

    def forward(self, logits, targets, pos_mask, avg_factor=1.0,
                valid: Tensor = None):
        loss = iou_aware_focal_loss(logits, targets, pos_mask, self.alpha,
                                    self.gamma)
        if valid is not None:  # drop ignored anchors
            loss = loss * valid[:, None].to(loss.dtype)
        return self.loss_weight * loss.sum() / max(float(avg_factor), 1.0)
