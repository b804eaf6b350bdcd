"""F1 of binary attributes, the CelebA benchmark's metric."""
from typing import Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from mtlbox.registry import METRICS


def binary_f1(tp, fp, fn, eps: float = 1e-8):
    """``F1 = 2 P R / (P + R + eps)`` with ``P = tp / (tp + fp + eps)`` and
    ``R = tp / (tp + fn + eps)`` (arrays, one entry per task), the form and
    ``eps`` of the FAMO CelebA code; 0 for a task without positives in
    either prediction or ground truth."""
    tp, fp, fn = (np.asarray(v, np.float64) for v in (tp, fp, fn))
    precision = tp / (tp + fp + eps)
    recall = tp / (tp + fn + eps)
    return 2 * precision * recall / (precision + recall + eps)


@METRICS.register_module()
class BinaryF1Metric(BaseMetric):
    """F1 of one binary task, counts accumulated over the split.

    The task's 0/1 ground truth is entry ``label_index`` of ``gt_label``,
    its prediction ``pred_label_<task>.label`` (written by
    :class:`~mtlbox.models.heads.BinaryClsHead`); ``tp``, ``fp``, ``fn`` are
    summed over all samples, then :func:`binary_f1`. Reports ``<task>/f1``.
    One metric per attribute of CelebA; ``MTLEvaluator(averages=
    {'mtl/mean_f1': 'f1'})`` adds their mean (the FAMO protocol's
    model-selection score).

    Args:
        task: the task (head) name; the prefix of the key.
        label_index: entry of ``gt_label.label`` holding this task's label.
    """

    def __init__(self, task: str, label_index: int,
                 collect_device='cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix or task)
        self.task, self.label_index = task, label_index

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            gt = np.asarray(sample['gt_label']['label']).reshape(-1)
            if not -len(gt) <= self.label_index < len(gt):
                raise IndexError(
                    f'BinaryF1Metric of task {self.task!r}: label_index='
                    f'{self.label_index} but the gt_label of '
                    f'{sample.get("img_path", "a sample")} has {len(gt)} '
                    'entries')
            pred = np.asarray(
                sample[f'pred_label_{self.task}']['label']).reshape(-1)
            self.results.append((int(pred[0]), int(gt[self.label_index])))

    def compute_metrics(self, results: list) -> dict:
        if not results:
            return {}
        pred, gt = np.array(results).T
        f1 = binary_f1([((pred == 1) & (gt == 1)).sum()],
                       [((pred == 1) & (gt == 0)).sum()],
                       [((pred == 0) & (gt == 1)).sum()])
        return dict(f1=float(f1[0]))
