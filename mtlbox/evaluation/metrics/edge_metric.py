"""Edge detection: ODS / OIS F-measure with a pixel tolerance."""
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric

from mtlbox.registry import METRICS
from .utils import field_data, is_labeled


def edge_counts(prob: torch.Tensor, gt: torch.Tensor,
                thresholds: torch.Tensor, tolerance: int = 2,
                ignore_index: int = 255) -> np.ndarray:
    """Per-threshold counts [T, 4]: matched predicted edge pixels, predicted
    edge pixels, matched ground-truth edge pixels, ground-truth edge pixels.

    A predicted pixel (``p >= t``) is matched if a ground-truth edge pixel
    lies within ``tolerance`` pixels (Chebyshev distance: a max-pool
    dilation), and a ground-truth pixel if a prediction does. Pixels with
    ``ignore_index`` count for neither side.

    Cost O(HW log HW + T): a pixel has a prediction within the tolerance at
    threshold ``t`` iff the max-pooled probability is ``>= t``, so every
    count is a cumulative histogram over the thresholds.
    """
    prob = prob.double().reshape(prob.shape[-2:])
    gt = gt.reshape(gt.shape[-2:])
    valid = gt != ignore_index
    g = (gt == 1) & valid
    k = 2 * tolerance + 1
    g_near = F.max_pool2d(g[None, None].double(), k, 1, tolerance)[0, 0] > 0
    near_prob = F.max_pool2d(
        torch.where(valid, prob, torch.full_like(prob, -1.0))[None, None], k,
        1, tolerance)[0, 0]
    thr = thresholds.double()

    def at_least(values):  # #{v >= t} for every threshold t
        values = values.flatten().sort().values
        return len(values) - torch.searchsorted(values, thr, right=False)

    return torch.stack([
        at_least(prob[valid & g_near]), at_least(prob[valid]),
        at_least(near_prob[g]),
        torch.full_like(thr, float(g.sum()), dtype=torch.long)
    ], dim=1).numpy().astype(np.float64)


def f_measure(counts: np.ndarray) -> np.ndarray:
    """F = 2PR / (P + R) from counts [..., 4] (see :func:`edge_counts`)."""
    p = counts[..., 0] / np.maximum(counts[..., 1], 1e-12)
    r = counts[..., 2] / np.maximum(counts[..., 3], 1e-12)
    return 2 * p * r / np.maximum(p + r, 1e-12)


@METRICS.register_module()
class EdgeMetric(BaseMetric):
    """ODS and OIS F-measures of ``pred_edge`` (probabilities) against
    ``gt_edge`` (0/1).

    - ``ODS``: one threshold for the dataset: counts summed over images,
      best F over ``num_thresholds`` thresholds ``k / (T + 1)``;
    - ``OIS``: the best threshold per image, counts at those summed, F
      (BSDS convention).

    Simplification of the BSDS benchmark (documented in
    docs/evaluation.md): no non-maximum suppression / thinning of the
    prediction and no one-to-one (bipartite) matching -- a pixel is matched
    if the other side has an edge within ``tolerance`` pixels (square
    neighbourhood), so thick predictions are not penalised as in BSDS.
    Use the official (MATLAB) code for numbers to publish.
    """

    def __init__(self, tolerance: int = 2, num_thresholds: int = 99,
                 ignore_index: int = 255, task: str = 'edge',
                 prefix: Optional[str] = None, collect_device='cpu'):
        super().__init__(collect_device=collect_device, prefix=prefix or task)
        self.tolerance, self.ignore_index, self.task = (tolerance,
                                                        ignore_index, task)
        self.thresholds = torch.arange(1, num_thresholds + 1) / (
            num_thresholds + 1)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if not is_labeled(sample, self.task, 'gt_edge'):
                continue
            self.results.append(edge_counts(
                field_data(sample, 'pred_edge'), field_data(sample,
                                                            'gt_edge'),
                self.thresholds, self.tolerance, self.ignore_index))

    def compute_metrics(self, results: list) -> dict:
        if not results:
            return {}
        counts = np.stack(results)  # [N, T, 4]
        ods = float(f_measure(counts.sum(0)).max())
        best = f_measure(counts).argmax(1)
        ois = float(f_measure(counts[np.arange(len(counts)), best].sum(0)))
        return dict(ODS=ods, OIS=ois)
