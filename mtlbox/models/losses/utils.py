"""Masked reductions shared by the dense losses."""
from collections import OrderedDict
from typing import Dict

from torch import Tensor



class HeadLosses(OrderedDict):
    """A head's loss terms ``{name: scalar}`` with each term's avg_factor.

    ``avg_factors[name]`` is the local divisor of the term's batch sum (the
    valid pixels of a masked mean, the positive anchors of a detection loss,
    the labelled samples of a per-sample mean), as mmdet's heads compute
    ``avg_factor``; under data parallelism the model rescales each term by
    ``local / mean over ranks`` of its own factor, so the rank average is
    the global-batch loss term by term (:class:`~mtlbox.models.
    MultiTaskModel`). A head may return a plain dict: every term then counts
    the head's labelled samples.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.avg_factors: Dict[str, float] = {}

    def add(self, name: str, value: Tensor, avg_factor: float) -> None:
        self[name] = value
        self.avg_factors[name] = float(avg_factor)


def with_avg_factor(value: Tensor, avg_factor, return_avg_factor: bool):
    """``value`` or ``(value, avg_factor)``: the return of a loss module
    asked for its divisor (``return_avg_factor=True``)."""
    return (value, float(avg_factor)) if return_avg_factor else value


def masked_mean(values: Tensor, valid: Tensor, per_sample: bool = False,
                return_count: bool = False):
    """Mean of ``values`` [B, H, W] over ``valid`` pixels.

    Returns a scalar (all valid pixels of the batch weigh equally) or, with
    ``per_sample``, a [B] tensor of per-image means (0 where an image has no
    valid pixel). With no valid pixel at all the scalar is an exact zero that
    still depends on ``values`` (so autograd sees the graph). With
    ``return_count``: ``(mean, number of valid pixels of the batch)``.
    """
    valid = valid.to(values.dtype)
    # callers replace invalid targets by a finite value first: NaN * 0 is NaN
    values = values * valid
    count = valid.sum()
    if per_sample:
        mean = values.flatten(1).sum(1) / valid.flatten(1).sum(1).clamp(min=1)
    else:
        mean = values.sum() / count.clamp(min=1)
    return (mean, float(count)) if return_count else mean


def check_shapes(pred: Tensor, target: Tensor, name: str) -> None:
    if pred.shape[0] != target.shape[0] or pred.shape[-2:] != target.shape[-2:]:
        raise ValueError(f'{name}: prediction {tuple(pred.shape)} and target '
                         f'{tuple(target.shape)} disagree in batch or size')

