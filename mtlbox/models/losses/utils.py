"""Masked reductions shared by the dense losses."""
from contextlib import contextmanager
from typing import List

from torch import Tensor

_RECORDERS: List[List[float]] = []


@contextmanager
def record_normalizers():
    """Collect the number of valid elements of every batch-level
    :func:`masked_mean` inside the block (the model uses it to normalise
    losses globally under data parallelism)."""
    counts: List[float] = []
    _RECORDERS.append(counts)
    try:
        yield counts
    finally:
        _RECORDERS.pop()


def record_normalizer(count: float) -> None:
    """Report the divisor of a batch-level loss (e.g. the number of
    positive anchors of a detection loss) to :func:`record_normalizers`;
    a loss that divides its batch sum by something should call this (once,
    before any :func:`masked_mean`) so data parallelism can use the global
    divisor."""
    if _RECORDERS:
        _RECORDERS[-1].append(float(count))


def masked_mean(values: Tensor, valid: Tensor, per_sample: bool = False):
    """Mean of ``values`` [B, H, W] over ``valid`` pixels.

    Returns a scalar (all valid pixels of the batch weigh equally) or, with
    ``per_sample``, a [B] tensor of per-image means (0 where an image has no
    valid pixel). With no valid pixel at all the scalar is an exact zero that
    still depends on ``values`` (so autograd sees the graph).
    """
    valid = valid.to(values.dtype)
    if not per_sample:
        record_normalizer(valid.sum())
    # callers replace invalid targets by a finite value first: NaN * 0 is NaN
    values = values * valid
    if per_sample:
        count = valid.flatten(1).sum(1)
        return values.flatten(1).sum(1) / count.clamp(min=1)
    return values.sum() / valid.sum().clamp(min=1)


def check_shapes(pred: Tensor, target: Tensor, name: str) -> None:
    if pred.shape[0] != target.shape[0] or pred.shape[-2:] != target.shape[-2:]:
        raise ValueError(f'{name}: prediction {tuple(pred.shape)} and target '
                         f'{tuple(target.shape)} disagree in batch or size')

