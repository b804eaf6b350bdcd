"""COCO-style detection AP through pycocotools."""
import contextlib
import io
from typing import Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from mtlbox.registry import METRICS
from .voc_metric import detection_pairs

#: pycocotools ``stats`` index -> key
COCO_KEYS = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl')


def coco_evaluate(results: Sequence[tuple], num_classes: int,
                  max_dets: int = 100) -> np.ndarray:
    """Run pycocotools ``COCOeval`` (bbox) on ``(pred, gt)`` numpy pairs
    (:func:`instances_to_numpy`) held in memory; returns its 12 ``stats``
    (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl; -1
    where undefined). Ignored (difficult) ground truth becomes ``iscrowd=1``:
    pycocotools then never counts it as a miss and drops detections matched
    to it (its crowd IoU divides by the detection's area, so this is close
    to, not identical with, VOC's "difficult")."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    images, annotations, detections = [], [], []
    for img_id, (pred, gt) in enumerate(results):
        images.append(dict(id=img_id))
        for box, label, ign in zip(gt['bboxes'], gt['labels'], gt['ignore']):
            w, h = float(box[2] - box[0]), float(box[3] - box[1])
            annotations.append(dict(
                id=len(annotations) + 1, image_id=img_id,
                category_id=int(label), bbox=[float(box[0]), float(box[1]),
                                              w, h],
                area=w * h, iscrowd=int(bool(ign))))
        for box, label, score in zip(pred['bboxes'], pred['labels'],
                                     pred['scores']):
            detections.append(dict(
                image_id=img_id, category_id=int(label), score=float(score),
                bbox=[float(box[0]), float(box[1]), float(box[2] - box[0]),
                      float(box[3] - box[1])]))
    categories = [dict(id=c) for c in range(num_classes)]
    gt_api = COCO()
    gt_api.dataset = dict(images=images, annotations=annotations,
                          categories=categories)
    with contextlib.redirect_stdout(io.StringIO()):
        gt_api.createIndex()
        if detections:
            dt_api = gt_api.loadRes(detections)
        else:
            # loadRes cannot take an empty list; an empty result index
            # gives pycocotools' own answer: 0 where ground truth exists,
            # -1 where none (e.g. APs without small boxes)
            dt_api = COCO()
            dt_api.dataset = dict(images=list(images), annotations=[],
                                  categories=categories)
            dt_api.createIndex()
        evaluator = COCOeval(gt_api, dt_api, 'bbox')
        evaluator.params.maxDets = [1, 10, max_dets]
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return np.asarray(evaluator.stats)


@METRICS.register_module()
class COCOMetric(BaseMetric):
    """COCO detection AP computed by pycocotools (the reference code).

    Keys (prefix default the task name): ``coco_AP`` (mean over IoU
    0.50:0.95, 101-point interpolation), ``coco_AP50``, ``coco_AP75``,
    ``coco_APs``/``coco_APm``/``coco_APl`` (areas < 32^2, < 96^2, larger;
    -1 when no box has that size), all at ``max_dets`` per image.
    Difficult boxes are ``iscrowd`` (see :func:`coco_evaluate`).

    Args:
        num_classes: default ``len(dataset_meta['classes'])``.
        max_dets: detections per image considered (COCO: 100).
        task: task key and default prefix.
    """

    def __init__(self, num_classes: Optional[int] = None, max_dets: int = 100,
                 task: str = 'det', prefix: Optional[str] = None,
                 collect_device='cpu'):
        super().__init__(collect_device=collect_device, prefix=prefix or task)
        self.num_classes = num_classes
        self.max_dets = max_dets
        self.task = task

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        self.results.extend(detection_pairs(data_samples, self.task,
                                            type(self).__name__))

    def compute_metrics(self, results: list) -> dict:
        if not results:
            return {}
        num_classes = self.num_classes
        if num_classes is None:
            names = (self.dataset_meta or {}).get('classes')
            if not names:
                raise ValueError('COCOMetric: set num_classes or give the '
                                 'dataset classes in its metainfo')
            num_classes = len(names)
        stats = coco_evaluate(results, num_classes, self.max_dets)
        return {f'coco_{k}': float(v) for k, v in zip(COCO_KEYS, stats)}
