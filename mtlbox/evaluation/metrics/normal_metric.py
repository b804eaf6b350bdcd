"""Surface normal metrics."""
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric

from mtlbox.registry import METRICS
from .utils import field_data, is_labeled

#: histogram resolution for the median angle (degrees)
BIN_DEG = 0.01
NUM_BINS = int(round(180 / BIN_DEG)) + 1
THRESHOLDS = (11.25, 22.5, 30.0)


def angle_errors(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Angles in degrees between predicted and ground-truth normals
    [3, H, W] at valid pixels (ground truth not all zero)."""
    pred = F.normalize(pred.double().reshape(3, -1), dim=0)
    gt = gt.double().reshape(3, -1)
    valid = gt.abs().sum(0) > 0
    gt = F.normalize(gt[:, valid], dim=0)
    cos = (pred[:, valid] * gt).sum(0).clamp(-1, 1)
    return torch.rad2deg(torch.acos(cos))


@METRICS.register_module()
class NormalMetric(BaseMetric):
    """Angular error of surface normals over all valid pixels.

    Reports ``mean``, ``median`` (from a 0.01-degree histogram, exact to
    that resolution), ``rmse`` (root mean squared angle), and the
    percentages within ``11.25``, ``22.5`` and
    ``30`` degrees (as fractions in [0, 1], angle strictly below).
    """

    def __init__(self, task: str = 'normal', prefix: Optional[str] = None,
                 collect_device='cpu'):
        super().__init__(collect_device=collect_device, prefix=prefix or task)
        self.task = task

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if not is_labeled(sample, self.task, 'gt_normal'):
                continue
            ang = angle_errors(field_data(sample, 'pred_normal'),
                               field_data(sample, 'gt_normal'))
            bins = torch.clamp((ang / BIN_DEG).round().long(), 0, NUM_BINS - 1)
            hist = torch.bincount(bins, minlength=NUM_BINS).numpy()
            within = np.array([(ang < t).sum().item() for t in THRESHOLDS])
            self.results.append((ang.sum().item(), hist, within,
                                 (ang**2).sum().item()))

    def compute_metrics(self, results: list) -> dict:
        if not results:
            return {}
        total = sum(r[0] for r in results)
        hist = np.sum([r[1] for r in results], axis=0)
        n = hist.sum()
        cdf = np.cumsum(hist)
        centers = np.arange(NUM_BINS) * BIN_DEG
        if n == 0:
            median = 0.0
        elif n % 2:
            median = centers[np.searchsorted(cdf, (n + 1) // 2)]
        else:  # mean of the two middle values, as numpy.median
            median = 0.5 * (centers[np.searchsorted(cdf, n // 2)] +
                            centers[np.searchsorted(cdf, n // 2 + 1)])
        out = dict(mean=total / max(n, 1), median=float(median),
                   rmse=float(np.sqrt(sum(r[3] for r in results) / max(n, 1))))
        within = np.sum([r[2] for r in results], axis=0)
        for thr, count in zip(THRESHOLDS, within):
            out[f'{thr:g}'] = float(count / max(n, 1))
        return out
