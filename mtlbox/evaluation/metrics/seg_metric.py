"""Semantic segmentation metric: mIoU, mean accuracy and pixel accuracy."""
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from mtlbox.registry import METRICS
from .utils import field_data, is_labeled


def confusion_matrix(pred: torch.Tensor, gt: torch.Tensor, num_classes: int,
                     ignore_index: int = 255) -> np.ndarray:
    """[C, C + 1] counts, rows = ground truth, columns = prediction; the
    last column counts predictions outside ``[0, C)`` (e.g. 255): wrong for
    their ground-truth class and a hit or false positive for no class (as
    mmseg, whose histograms drop such predictions). Pixels whose ground
    truth is ``ignore_index`` or outside ``[0, C)`` are skipped."""
    valid = (gt != ignore_index) & (gt >= 0) & (gt < num_classes)
    gt, pred = gt[valid].long(), pred[valid].long()
    pred = torch.where((pred >= 0) & (pred < num_classes), pred,
                       torch.full_like(pred, num_classes))
    index = gt * (num_classes + 1) + pred
    return torch.bincount(
        index, minlength=num_classes * (num_classes + 1)).reshape(
            num_classes, num_classes + 1).numpy()


def seg_scores(conf: np.ndarray) -> dict:
    """mIoU / mAcc over classes present in ground truth or prediction
    (union > 0), and pixel accuracy aAcc, from a dataset confusion matrix
    [C, C] or [C, C + 1] (:func:`confusion_matrix`: the extra column holds
    predictions outside ``[0, C)``, counted only as misses)."""
    conf = conf.astype(np.float64)
    num = conf.shape[0]
    tp = np.diag(conf[:, :num])
    gt_count = conf.sum(1)
    union = gt_count + conf[:, :num].sum(0) - tp
    with np.errstate(invalid='ignore', divide='ignore'):
        iou = np.where(union > 0, tp / union, np.nan)
        acc = np.where(gt_count > 0, tp / gt_count, np.nan)
    return dict(
        mIoU=float(np.nanmean(iou)) if np.isfinite(iou).any() else 0.0,
        mAcc=float(np.nanmean(acc)) if np.isfinite(acc).any() else 0.0,
        aAcc=float(tp.sum() / max(conf.sum(), 1)),
        per_class_iou=iou)


@METRICS.register_module()
class SegMetric(BaseMetric):
    """mIoU from the dataset-level confusion matrix (as mmseg). A predicted
    label outside ``[0, num_classes)`` (e.g. 255) is a miss for the pixel's
    ground-truth class, never another class's hit (as mmseg).

    Reads ``pred_sem_seg`` / ``gt_sem_seg`` of samples labelled for ``task``.
    Reports ``{prefix}/mIoU``, ``{prefix}/mAcc``, ``{prefix}/aAcc`` and,
    with ``classwise=True``, ``{prefix}/IoU_<class>`` (NaN for a class
    absent from ground truth and prediction).

    Args:
        num_classes: classes; default ``len(dataset_meta['seg_classes'])``.
        ignore_index: ground-truth label to skip.
        task: task key (``labeled_tasks``) and default prefix.
    """

    gt_field = 'gt_sem_seg'
    pred_field = 'pred_sem_seg'
    classes_key = 'seg_classes'

    def __init__(self, num_classes: Optional[int] = None,
                 ignore_index: int = 255, task: str = 'seg',
                 prefix: Optional[str] = None, classwise: bool = False,
                 collect_device='cpu'):
        super().__init__(collect_device=collect_device, prefix=prefix or task)
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.classwise = classwise
        self.task = task

    def _classes(self):
        if self.num_classes is not None:
            return self.num_classes
        meta = self.dataset_meta or {}
        names = meta.get(self.classes_key) or meta.get('classes')
        if not names:
            raise ValueError(f'{type(self).__name__}: set num_classes or '
                             f'give the dataset {self.classes_key} in its '
                             'metainfo')
        return len(names)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        num_classes = self._classes()
        for sample in data_samples:
            if not is_labeled(sample, self.task, self.gt_field):
                continue
            pred = field_data(sample, self.pred_field).squeeze()
            gt = field_data(sample, self.gt_field).squeeze()
            self.results.append(
                confusion_matrix(pred, gt, num_classes, self.ignore_index))

    def compute_metrics(self, results: list) -> dict:
        if not results:
            return {}
        scores = seg_scores(np.sum(results, axis=0))
        out = {k: v for k, v in scores.items() if k != 'per_class_iou'}
        if self.classwise:
            names = (self.dataset_meta or {}).get(self.classes_key) or [
                str(c) for c in range(len(scores['per_class_iou']))]
            for name, iou in zip(names, scores['per_class_iou']):
                out[f'IoU_{name}'] = float(iou)
        return out

