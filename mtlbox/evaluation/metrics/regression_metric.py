"""Vector regression metrics (toy multi-task regression)."""
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from mtlbox.registry import METRICS
from .utils import is_labeled


def _values(sample, field):
    value = sample[field]
    value = value['values'] if isinstance(value, dict) else value.values
    return torch.as_tensor(value).detach().cpu().double()


@METRICS.register_module()
class RegressionMetric(BaseMetric):
    """Errors of real-valued vector predictions.

    Over all labelled samples n and outputs k of task ``task``:
    ``mse = mean (p_nk - y_nk)^2``, ``mae = mean |p_nk - y_nk|``,
    ``rmse = sqrt(mse)``. The target is row ``label_index`` of
    ``gt_label.values`` (``PackVectorInputs``: [T, K]) or all of it; the
    prediction ``pred_label_<task>.values`` (``RegressionHead``), else
    ``pred_label.values``. ``skip_noisy=True`` leaves out samples whose
    ``gt_label.noisy[label_index]`` is set (noise-corrupted targets).

    Args:
        task: task (head) name, the key prefix.
        label_key: ``labeled_tasks`` entry selecting the samples (default
            ``task``).
        label_index: row of ``gt_label.values``.
        skip_noisy: evaluate only clean targets.
    """

    def __init__(self, task: str, label_key: Optional[str] = None,
                 label_index: Optional[int] = None, skip_noisy: bool = False,
                 prefix: Optional[str] = None, collect_device='cpu'):
        super().__init__(collect_device=collect_device, prefix=prefix or task)
        self.task, self.label_key = task, label_key
        self.label_index, self.skip_noisy = label_index, skip_noisy

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if not is_labeled(sample, self.label_key or self.task,
                              'gt_label'):
                continue
            gt = _values(sample, 'gt_label')
            if self.label_index is not None:
                if self.skip_noisy:
                    label = sample['gt_label']
                    noisy = (label.get('noisy') if isinstance(label, dict)
                             else getattr(label, 'noisy', None))
                    if noisy is not None and bool(
                            torch.as_tensor(noisy)[self.label_index]):
                        continue
                gt = gt[self.label_index]
            own = f'pred_label_{self.task}'
            pred = _values(sample, own if own in sample else 'pred_label')
            diff = (pred.reshape(-1) - gt.reshape(-1)).numpy()
            self.results.append((float((diff ** 2).sum()),
                                 float(np.abs(diff).sum()), diff.size))

    def compute_metrics(self, results: list) -> dict:
        if not results:
            return {}
        count = sum(r[2] for r in results)
        mse = sum(r[0] for r in results) / count
        mae = sum(r[1] for r in results) / count
        return dict(mse=mse, mae=mae, rmse=float(np.sqrt(mse)))
