"""Complete-IoU box regression loss."""
from torch import Tensor, nn
from torchvision.ops import complete_box_iou_loss

from mtlbox.registry import MODELS


def ciou_loss(pred: Tensor, target: Tensor, eps: float = 1e-7) -> Tensor:
    """``1 - IoU + rho^2 / c^2 + a v`` per box pair (Zheng et al., AAAI
    2020): ``rho`` the distance of the centres, ``c`` the diagonal of the
    smallest enclosing box, ``v = 4 / pi^2 (atan(w_g/h_g) - atan(w/h))^2``,
    ``a = v / (1 - IoU + v)``. Computed by
    ``torchvision.ops.complete_box_iou_loss``. Shapes: [N, 4] xyxy -> [N].
    """
    if pred.numel() == 0:
        return pred.sum(dim=-1)
    return complete_box_iou_loss(pred, target, reduction='none', eps=eps)


@MODELS.register_module()
class CIoULoss(nn.Module):
    """Sum of :func:`ciou_loss` divided by ``avg_factor`` (#positives,
    at least 1), times ``loss_weight`` (10 in AMTL's VMM detector)."""

    def __init__(self, loss_weight: float = 10.0, eps: float = 1e-7):
        super().__init__()
        self.loss_weight, self.eps = loss_weight, eps

    def forward(self, pred, target, avg_factor=1.0):
        loss = ciou_loss(pred, target, self.eps)
        return self.loss_weight * loss.sum() / max(float(avg_factor), 1.0)
