"""A new *kind* of task, defined outside mtlbox: object boundaries.

Everything a task kind needs, registered from this package:

- the kind: ``register_task_kind('boundary', ...)`` -- the data sample gets
  ``gt_boundary`` / ``pred_boundary``, and packing, padding, resizing,
  flipping and the original-frame evaluation of mtlbox handle the label;
- :class:`LoadBoundaryAnnotation`: reads a boundary PNG (``boundary_path``)
  or derives the boundary of a semantic segmentation map;
- :class:`BoundaryHead` with :class:`BoundaryBCELoss`;
- :class:`BoundaryF1Metric` (``boundary/f1``, ``boundary/precision``,
  ``boundary/recall``).
"""
import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import BaseTransform
from mmengine.evaluator import BaseMetric
from torch import nn

from mtlbox.evaluation.metrics.utils import field_data, is_labeled
from mtlbox.models.heads.base_dense_head import BaseDenseHead
from mtlbox.registry import METRICS, MODELS, TRANSFORMS
from mtlbox.structures import register_task_kind

register_task_kind('boundary', 'gt_boundary', result_key='gt_boundary_map',
                   path_key='boundary_path', dtype='long', pad_value=255,
                   interpolation='nearest')


def seg_boundary(seg: np.ndarray, ignore_index: int = 255) -> np.ndarray:
    """1 where a pixel's right or lower neighbour has another class, 0
    elsewhere, ``ignore_index`` where the segmentation is ignored."""
    seg = np.asarray(seg)
    edge = np.zeros(seg.shape, np.uint8)
    edge[:, :-1] |= seg[:, :-1] != seg[:, 1:]
    edge[:-1] |= seg[:-1] != seg[1:]
    edge[seg == ignore_index] = ignore_index
    return edge


@TRANSFORMS.register_module()
class LoadBoundaryAnnotation(BaseTransform):
    """``results['gt_boundary_map']`` (HW uint8, 1 = boundary) from the PNG
    at ``results['boundary_path']`` (``v > 0``), or, with ``from_seg=True``
    and no path, from ``results['gt_seg_map']``. Adds ``'boundary'`` to
    ``labeled_tasks`` when a label was made."""

    def __init__(self, from_seg: bool = True):
        self.from_seg = from_seg

    def transform(self, results):
        path = results.get('boundary_path')
        if path:
            from PIL import Image
            with Image.open(path) as img:
                results['gt_boundary_map'] = (np.asarray(img) > 0).astype(
                    np.uint8)
        elif self.from_seg and 'gt_seg_map' in results:
            results['gt_boundary_map'] = seg_boundary(results['gt_seg_map'])
        else:
            return results
        labeled = list(results.get('labeled_tasks', []))
        if 'boundary' not in labeled:
            labeled.append('boundary')
        results['labeled_tasks'] = labeled
        return results


@MODELS.register_module()
class BoundaryBCELoss(nn.Module):
    """Class-balanced binary cross-entropy over non-ignored pixels: boundary
    pixels weigh ``1 - p``, others ``p`` (``p`` = boundary share), as HED.
    ``per_sample=True`` returns one value per image."""

    loss_name = 'loss_bce'

    def __init__(self, ignore_index: int = 255, loss_weight: float = 1.0):
        super().__init__()
        self.ignore_index = ignore_index
        self.loss_weight = loss_weight

    def forward(self, logits, target, per_sample=False):
        valid = (target != self.ignore_index).float()
        pos = (target == 1).float()
        share = (pos.sum() / valid.sum().clamp(min=1)).clamp(1e-3, 1 - 1e-3)
        weight = valid * (pos * (1 - share) + (1 - pos) * share)
        loss = F.binary_cross_entropy_with_logits(
            logits, pos, weight=weight, reduction='none')
        if per_sample:
            dims = tuple(range(1, loss.dim()))
            return self.loss_weight * loss.sum(dims) / weight.sum(
                dims).clamp(min=1e-6)
        return self.loss_weight * loss.sum() / weight.sum().clamp(min=1e-6)


@MODELS.register_module()
class BoundaryHead(BaseDenseHead):
    """Boundary probability per pixel [1, H, W] (sigmoid); fills
    ``pred_boundary``."""

    gt_field = 'gt_boundary'
    pred_field = 'pred_boundary'
    loss_name = 'loss_bce'

    def __init__(self, in_channels, channels=64,
                 loss=dict(type='BoundaryBCELoss'), **kwargs):
        super().__init__(in_channels, 1, loss, channels, **kwargs)

    def postprocess(self, out):
        return out.sigmoid()


@METRICS.register_module()
class BoundaryF1Metric(BaseMetric):
    """Pixel F1 of ``pred_boundary > threshold`` against ``gt_boundary``
    over non-ignored pixels of the dataset (no distance tolerance)."""

    def __init__(self, task='boundary', threshold=0.5, ignore_index=255,
                 prefix=None, collect_device='cpu'):
        super().__init__(collect_device=collect_device, prefix=prefix or task)
        self.task = task
        self.threshold = threshold
        self.ignore_index = ignore_index

    def process(self, data_batch, data_samples):
        for sample in data_samples:
            if not is_labeled(sample, self.task, 'gt_boundary'):
                continue
            pred = field_data(sample, 'pred_boundary').squeeze(0)
            gt = field_data(sample, 'gt_boundary').squeeze(0)
            valid = gt != self.ignore_index
            hit = pred[valid] > self.threshold
            truth = gt[valid] == 1
            self.results.append(((hit & truth).sum().item(),
                                 hit.sum().item(), truth.sum().item()))

    def compute_metrics(self, results):
        if not results:
            return {}
        tp, predicted, actual = np.sum(results, axis=0, dtype=np.float64)
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = (2 * precision * recall / (precision + recall)
              if precision + recall else 0.0)
        return dict(f1=float(f1), precision=float(precision),
                    recall=float(recall))
