"""Human parts segmentation metric."""
from typing import Optional

from mtlbox.registry import METRICS
from .seg_metric import SegMetric


@METRICS.register_module()
class PartsMetric(SegMetric):
    """:class:`SegMetric` on ``gt_parts`` / ``pred_parts`` (human parts);
    keys ``mIoU``, ``mAcc``, ``aAcc`` (prefix default ``parts``); class
    count from ``num_classes`` or ``dataset_meta['parts_classes']``. A
    predicted part label outside ``[0, num_classes)`` is a miss for the
    pixel's ground-truth part (as SegMetric)."""

    gt_field = 'gt_parts'
    pred_field = 'pred_parts'
    classes_key = 'parts_classes'

    def __init__(self, num_classes: Optional[int] = None,
                 ignore_index: int = 255, task: str = 'parts', **kwargs):
        super().__init__(num_classes, ignore_index, task, **kwargs)
