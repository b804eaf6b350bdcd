"""Pixel-wise cross entropy with an ignore index."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .utils import check_shapes, masked_mean, with_avg_factor


def out_of_range(target: Tensor, num_classes: int,
                 ignore_index: Optional[int]) -> Tensor:
    """Mask of labels that are neither a class ``0..num_classes-1`` nor
    ``ignore_index``."""
    bad = (target < 0) | (target >= num_classes)
    if ignore_index is not None:
        bad &= target != ignore_index
    return bad


def label_range_message(values, num_classes: int, ignore_index,
                        who: str, where: Optional[str] = None) -> str:
    """The error for labels ``values`` outside ``0..num_classes-1``."""
    values = sorted(int(v) for v in values)
    src = f' (sample {where})' if where else ''
    more = f' (all bad values: {values[:10]})' if len(values) > 1 else ''
    return (f'{who}: label {values[0]}{src} is outside num_classes='
            f'{num_classes} ({num_classes} classes 0..{num_classes - 1}; '
            f'{ignore_index} = ignore){more}. Set num_classes to the number '
            'of classes of the dataset (metainfo classes), or fix the label '
            'file (e.g. reduce_zero_label, or a class map)')


def check_label_range(target: Tensor, num_classes: int,
                      ignore_index: Optional[int], who: str,
                      where: Optional[str] = None) -> None:
    """Raise ``ValueError`` naming ``who``, the value and ``num_classes``
    when ``target`` holds a label outside the classes (one device sync);
    torch's own message (``Target 7 is out of bounds``, or a device-side
    assert on CUDA) names neither."""
    bad = out_of_range(target, num_classes, ignore_index)
    if bool(bad.any()):
        raise ValueError(label_range_message(
            torch.unique(target[bad]).tolist(), num_classes, ignore_index,
            who, where))


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
    (classification) the mean is over samples. A label outside ``0..C-1``
    that is not ``ignore_index`` raises ``ValueError`` naming it and ``C``
    (the heads check first and also name their task and the file).
    """

    loss_name = 'loss_ce'

    def __init__(self, ignore_index: int = 255, loss_weight: float = 1.0,
                 label_smoothing: float = 0.0):
        super().__init__()
        self.ignore_index = ignore_index
        self.loss_weight = loss_weight
        self.label_smoothing = label_smoothing

    def forward(self, logits: Tensor, target: Tensor, per_sample=False,
                return_avg_factor: bool = False):
        check_label_range(target, logits.shape[1], self.ignore_index,
                          type(self).__name__)
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
        mean, count = masked_mean(loss, valid, per_sample, return_count=True)
        return with_avg_factor(self.loss_weight * mean, count,
                               return_avg_factor)
