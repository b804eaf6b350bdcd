"""Pixel-wise cross entropy with an ignore index."""
import torch.nn.functional as F
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .utils import check_shapes, masked_mean


@MODELS.register_module()
class CrossEntropyLoss(nn.Module):
    """``-log softmax(logits)[y]`` averaged over pixels whose label is not
    ``ignore_index``.

    Args:
        ignore_index: label of unlabelled pixels (255 for VOC).
        loss_weight: multiplier of the result.
        label_smoothing: ``eps``: the target puts ``1 - eps + eps / C`` on
            the true class and ``eps / C`` on the others (Szegedy et al.
            2016), as ``torch.nn.functional.cross_entropy``.

    Shapes: logits [B, C, H, W], target [B, H, W] long -> scalar, or [B]
    with ``per_sample=True``. For [B, C] logits and [B] targets
    (classification) the mean is over samples.
    """

    loss_name = 'loss_ce'

    def __init__(self, ignore_index: int = 255, loss_weight: float = 1.0,
                 label_smoothing: float = 0.0):
        super().__init__()
        self.ignore_index = ignore_index
        self.loss_weight = loss_weight
        self.label_smoothing = label_smoothing

    def forward(self, logits: Tensor, target: Tensor, per_sample=False):
        if logits.dim() == 2:
            loss = F.cross_entropy(logits, target,
                                   ignore_index=self.ignore_index,
                                   reduction='none',
                                   label_smoothing=self.label_smoothing)
            valid = target != self.ignore_index
            loss = loss * valid
            out = loss if per_sample else loss.sum() / valid.sum().clamp(min=1)
            return self.loss_weight * out
        check_shapes(logits, target, 'CrossEntropyLoss')
        loss = F.cross_entropy(
            logits, target.long(), ignore_index=self.ignore_index,
            reduction='none', label_smoothing=self.label_smoothing)
        valid = target != self.ignore_index
        return self.loss_weight * masked_mean(loss, valid, per_sample)
