"""Saliency metrics: max F-measure, max IoU over thresholds, MAE."""
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from mtlbox.registry import METRICS
from .utils import field_data, is_labeled

NUM_BINS = 256


def binary_histograms(prob: torch.Tensor, gt: torch.Tensor,
                      ignore_index: int = 255):
    """Histograms [256] of quantised probabilities ``floor(255 p)`` of the
    positive and the negative valid pixels, and ``(sum |p - y|, n)``."""
    prob = prob.double().flatten().clamp(0, 1)
    gt = gt.flatten()
    valid = gt != ignore_index
    prob, y = prob[valid], gt[valid]
    bins = (prob * (NUM_BINS - 1)).floor().long()
    pos = torch.bincount(bins[y == 1], minlength=NUM_BINS).numpy()
    neg = torch.bincount(bins[y != 1], minlength=NUM_BINS).numpy()
    return pos, neg, float((prob - (y == 1).double()).abs().sum()), int(
        valid.sum())


@METRICS.register_module()
class SaliencyMetric(BaseMetric):
    """Saliency quality of ``pred_saliency`` (probabilities [1, H, W])
    against ``gt_saliency`` (0/1, ``ignore_index`` skipped).

    At each threshold ``t_k = k / 255`` (pixel salient if
    ``floor(255 p) >= k``), precision ``P``, recall ``R`` and IoU come from
    true/false positives summed over all pixels of the dataset (not
    averaged per image):

    - ``maxF`` = ``max_k (1 + b2) P R / (b2 P + R)``, ``b2 = 0.3``
      (Achanta et al. 2009; ASTMT / MTI-Net),
    - ``maxIoU`` = ``max_k TP / (TP + FP + FN)``,
    - ``MAE`` = mean over images of the mean ``|p - y|``.
    """

    def __init__(self, beta2: float = 0.3, ignore_index: int = 255,
                 task: str = 'saliency', prefix: Optional[str] = None,
                 collect_device='cpu'):
        super().__init__(collect_device=collect_device, prefix=prefix or task)
        self.beta2, self.ignore_index, self.task = beta2, ignore_index, task

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if not is_labeled(sample, self.task, 'gt_saliency'):
                continue
            self.results.append(binary_histograms(
                field_data(sample, 'pred_saliency'),
                field_data(sample, 'gt_saliency'), self.ignore_index))

    def compute_metrics(self, results: list) -> dict:
        if not results:
            return {}
        pos = np.sum([r[0] for r in results], axis=0).astype(np.float64)
        neg = np.sum([r[1] for r in results], axis=0).astype(np.float64)
        tp = np.cumsum(pos[::-1])[::-1]  # predicted salient at bin >= k
        fp = np.cumsum(neg[::-1])[::-1]
        npos = pos.sum()
        prec = tp / np.maximum(tp + fp, 1e-12)
        rec = tp / max(npos, 1e-12)
        f = (1 + self.beta2) * prec * rec / np.maximum(
            self.beta2 * prec + rec, 1e-12)
        iou = tp / np.maximum(npos + fp, 1e-12)
        mae = np.mean([r[2] / max(r[3], 1) for r in results])
        return dict(maxF=float(f.max()), maxIoU=float(iou.max()),
                    MAE=float(mae))
