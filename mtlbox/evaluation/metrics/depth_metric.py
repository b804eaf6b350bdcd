"""Depth estimation metrics."""
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from mtlbox.registry import METRICS
from .utils import field_data, is_labeled


def depth_sums(pred: torch.Tensor, gt: torch.Tensor, min_depth: float = 0.0,
               max_depth: float = float('inf')) -> np.ndarray:
    """Per-image sufficient statistics over valid pixels
    ``min_depth < gt <= max_depth``: [n, sum|e|, sum|e|/gt, sum e^2,
    sum (log pred - log gt)^2, #delta<1.25, #<1.25^2, #<1.25^3,
    sum e^2/gt, sum |log10 pred - log10 gt|, sum (log pred - log gt)]
    with ``e = pred - gt`` (pred clamped to >= 1e-6)."""
    pred = pred.double().flatten()
    gt = gt.double().flatten()
    valid = (gt > min_depth) & (gt <= max_depth)
    p, g = pred[valid].clamp(min=1e-6), gt[valid]
    err = p - g
    ratio = torch.maximum(p / g, g / p)
    return np.array([
        valid.sum().item(),
        err.abs().sum().item(),
        (err.abs() / g).sum().item(),
        (err**2).sum().item(),
        ((p.log() - g.log())**2).sum().item(),
        (ratio < 1.25).sum().item(),
        (ratio < 1.25**2).sum().item(),
        (ratio < 1.25**3).sum().item(),
        (err**2 / g).sum().item(),
        (p.log10() - g.log10()).abs().sum().item(),
        (p.log() - g.log()).sum().item(),
    ])


def depth_scores(sums: np.ndarray) -> dict:
    """Pixel-averaged metrics over the whole dataset from summed statistics.

    ``silog = 100 sqrt(mean d^2 - (mean d)^2)``, ``d = log pred - log gt``
    (KITTI/BTS definition, but over all valid pixels of the dataset rather
    than averaged per image).
    """
    n = max(sums[0], 1)
    extra = {}
    if len(sums) > 8:
        mean_d, mean_d2 = sums[10] / n, sums[4] / n
        extra = dict(sq_rel=sums[8] / n, log10=sums[9] / n,
                     silog=100 * float(np.sqrt(max(mean_d2 - mean_d**2, 0))))
    return dict(
        abs_err=sums[1] / n,
        abs_rel=sums[2] / n,
        rmse=float(np.sqrt(sums[3] / n)),
        rmse_log=float(np.sqrt(sums[4] / n)),
        delta1=sums[5] / n,
        delta2=sums[6] / n,
        delta3=sums[7] / n,
        **extra)


@METRICS.register_module()
class DepthMetric(BaseMetric):
    """Depth errors over all valid pixels of the dataset.

    ``abs_err`` = mean |d - d*|, ``abs_rel`` = mean |d - d*| / d*,
    ``sq_rel`` = mean (d - d*)^2 / d*, ``rmse``, ``rmse_log``,
    ``log10`` = mean |log10 d - log10 d*|, ``silog`` (see
    :func:`depth_scores`), ``delta1..3`` = fraction with
    ``max(d/d*, d*/d) < 1.25^k``. Pixels count equally across images.

    Args:
        min_depth, max_depth: valid ground-truth range (exclusive, inclusive).
        task: task key and default prefix.
    """

    def __init__(self, min_depth: float = 0.0, max_depth: float = float('inf'),
                 task: str = 'depth', prefix: Optional[str] = None,
                 collect_device='cpu'):
        super().__init__(collect_device=collect_device, prefix=prefix or task)
        self.min_depth, self.max_depth = min_depth, max_depth
        self.task = task

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if not is_labeled(sample, self.task, 'gt_depth'):
                continue
            self.results.append(
                depth_sums(field_data(sample, 'pred_depth'),
                           field_data(sample, 'gt_depth'), self.min_depth,
                           self.max_depth))

    def compute_metrics(self, results: list) -> dict:
        if not results:
            return {}
        return {k: float(v) for k, v in
                depth_scores(np.sum(results, axis=0)).items()}
