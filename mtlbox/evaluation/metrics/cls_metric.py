"""Image classification metrics."""
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from mtlbox.registry import METRICS
from .utils import is_labeled
from .voc_metric import voc_ap


def _label(sample, field, key):
    value = sample[field]
    value = value[key] if isinstance(value, dict) else getattr(value, key)
    return torch.as_tensor(value).detach().cpu().reshape(-1)


@METRICS.register_module()
class ClsMetric(BaseMetric):
    """Classification accuracy of ``pred_label`` against ``gt_label``.

    Single-label keys: ``top1`` (fraction of images whose argmax is the
    label) and ``mean_class_acc`` (mean over classes with samples of the
    per-class recall); ``classwise=True`` adds ``acc_<class>``.
    ``multi_label=True``: ``mAP_multilabel``, the mean over classes of the
    all-point AP of ranking images by ``pred_label.score``.

    Tasks that share one label vector (Multi-MNIST ``[left, right]``,
    CIFAR-10 MT's ten 0/1 entries): ``label_index=k`` scores entry ``k`` of
    ``gt_label.label`` (single-label only). The prediction is read from
    ``pred_label_<task>`` (written by ``ClsHead`` of that task) when the
    sample has it, else from ``pred_label``.

    Args:
        num_classes: default ``len(dataset_meta['classes'])``; with
            ``label_index`` the classes of that entry (2 for 0/1 labels),
            else the largest label seen + 1.
        task: the task (head) name; the prefix of the keys.
        label_key: the ``labeled_tasks`` entry that selects the samples
            (default ``task``), as ``ClsHead.label_key``.
        label_index: entry of ``gt_label.label`` to score (default the whole
            label).
    """

    def __init__(self, num_classes: Optional[int] = None,
                 multi_label: bool = False, classwise: bool = False,
                 task: str = 'cls', prefix: Optional[str] = None,
                 label_key: Optional[str] = None,
                 label_index: Optional[int] = None,
                 collect_device='cpu'):
        super().__init__(collect_device=collect_device, prefix=prefix or task)
        if label_index is not None and multi_label:
            raise ValueError('ClsMetric: label_index scores one single-label '
                             'entry; it cannot be combined with multi_label')
        self.num_classes, self.multi_label = num_classes, multi_label
        self.classwise, self.task = classwise, task
        self.label_key, self.label_index = label_key, label_index

    def _pred_field(self, sample) -> str:
        own = f'pred_label_{self.task}'
        return own if own in sample else 'pred_label'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if not is_labeled(sample, self.label_key or self.task,
                              'gt_label'):
                continue
            gt = _label(sample, 'gt_label', 'label').numpy()
            if self.label_index is not None:
                if not -len(gt) <= self.label_index < len(gt):
                    raise IndexError(
                        f'ClsMetric of task {self.task!r}: label_index='
                        f'{self.label_index} but the gt_label of '
                        f'{sample.get("img_path", "a sample")} has '
                        f'{len(gt)} entries {gt.tolist()}')
                gt = gt[self.label_index:][:1]
            field = self._pred_field(sample)
            if self.multi_label:
                score = _label(sample, field, 'score').numpy()
                self.results.append((score, gt))
            else:
                pred = _label(sample, field, 'label').numpy()
                self.results.append((int(pred[0]), int(gt[0])))

    def _classes(self, fallback):
        if self.num_classes is not None:
            return self.num_classes
        if self.label_index is not None:  # dataset classes name the vector
            return fallback
        names = (self.dataset_meta or {}).get('classes')
        return len(names) if names else fallback

    def compute_metrics(self, results: list) -> dict:
        if not results:
            return {}
        if self.multi_label:
            scores = np.stack([r[0] for r in results])
            c = scores.shape[1]
            target = np.zeros_like(scores, dtype=bool)
            for i, (_, gt) in enumerate(results):
                target[i, gt] = True
            aps = []
            for k in range(c):
                n = target[:, k].sum()
                if n == 0:
                    continue
                order = np.argsort(-scores[:, k], kind='stable')
                tp = np.cumsum(target[order, k])
                ranks = np.arange(1, len(order) + 1)
                aps.append(voc_ap(tp / n, tp / ranks, 'area'))
            return dict(mAP_multilabel=float(np.mean(aps)) if aps else 0.0)
        pred = np.array([r[0] for r in results])
        gt = np.array([r[1] for r in results])
        num = self._classes(int(max(pred.max(), gt.max())) + 1)
        out = dict(top1=float((pred == gt).mean()))
        accs = []
        names = None if self.label_index is not None else (
            self.dataset_meta or {}).get('classes')
        names = names or [str(k) for k in range(num)]
        for k in range(num):
            sel = gt == k
            if sel.any():
                acc = float((pred[sel] == k).mean())
                accs.append(acc)
                if self.classwise:
                    out[f'acc_{names[k]}'] = acc
        out['mean_class_acc'] = float(np.mean(accs))
        return out
