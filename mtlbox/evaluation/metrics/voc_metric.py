"""PASCAL VOC detection mAP (difficult boxes ignored)."""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mtlbox.registry import METRICS
from .utils import is_labeled

#: the IoU thresholds of AMTL's ``mAP`` (0.50, 0.55, ..., 0.95)
COCO_IOUS = tuple(np.round(np.linspace(0.5, 0.95, 10), 2).tolist())


def _get(inst, key):
    value = inst[key] if isinstance(inst, dict) else getattr(inst, key)
    return torch.as_tensor(value).detach().cpu().numpy()


def instances_to_numpy(inst, with_scores: bool) -> Dict[str, np.ndarray]:
    """``{'bboxes': [N, 4] float64, 'labels': [N] int64, 'scores' | 'ignore':
    [N]}`` from an InstanceData or its ``to_dict()``."""
    out = dict(bboxes=_get(inst, 'bboxes').astype(np.float64).reshape(-1, 4),
               labels=_get(inst, 'labels').astype(np.int64).reshape(-1))
    if with_scores:
        out['scores'] = _get(inst, 'scores').astype(np.float64).reshape(-1)
    else:
        has = ('ignore_flags' in inst) if isinstance(inst, dict) else \
            hasattr(inst, 'ignore_flags')
        out['ignore'] = (_get(inst, 'ignore_flags').astype(bool).reshape(-1)
                         if has else np.zeros(len(out['labels']), bool))
    return out


def detection_pairs(data_samples: Sequence[dict], task: str,
                    owner: str) -> List[tuple]:
    """``(prediction, ground truth)`` as :func:`instances_to_numpy` for the
    samples labelled for ``task`` (what the detection metrics store); a
    labelled sample without ``pred_instances`` is an error naming
    ``owner`` (the metric) and the task."""
    pairs = []
    for sample in data_samples:
        if not is_labeled(sample, task, 'gt_instances'):
            continue
        if 'pred_instances' not in sample:
            raise KeyError(f'{owner}: sample {sample.get("img_path")} has no '
                           'pred_instances; is a detection head named '
                           f'{task!r} in the model?')
        pairs.append((instances_to_numpy(sample['pred_instances'], True),
                      instances_to_numpy(sample['gt_instances'], False)))
    return pairs


def box_iou_np(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU [N, M] of xyxy boxes with continuous areas ``(x2 - x1)(y2 - y1)``
    (as pycocotools; the VOC devkit adds 1 pixel to each side length)."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area_a = np.clip(a[:, 2:] - a[:, :2], 0, None).prod(-1)
    area_b = np.clip(b[:, 2:] - b[:, :2], 0, None).prod(-1)
    union = area_a[:, None] + area_b[None] - inter
    return inter / np.maximum(union, np.finfo(np.float64).eps)


def voc_ap(recall: np.ndarray, precision: np.ndarray,
           mode: str = 'area') -> float:
    """Average precision of a precision/recall curve (points in detection
    order).

    - ``'area'`` (VOC 2010+): area under the interpolated curve
      ``p_interp(r) = max_{r' >= r} p(r')``, summed at the recall steps.
    - ``'11points'`` (VOC 2007): mean over ``t in {0, 0.1, ..., 1}`` of
      ``max_{r >= t} p(r)`` (0 when no recall reaches ``t``).
    - ``'101points'`` (COCO): the same over ``t in {0, 0.01, ..., 1}``.
    """
    recall = np.asarray(recall, np.float64)
    precision = np.asarray(precision, np.float64)
    if mode == 'area':
        r = np.concatenate([[0.0], recall, [1.0]])
        p = np.concatenate([[0.0], precision, [0.0]])
        p = np.maximum.accumulate(p[::-1])[::-1]
        steps = np.nonzero(r[1:] != r[:-1])[0]
        return float(((r[steps + 1] - r[steps]) * p[steps + 1]).sum())
    if mode in ('11points', '101points'):
        n = 11 if mode == '11points' else 101
        total = 0.0
        for t in np.linspace(0, 1, n):
            mask = recall >= t - 1e-12
            total += precision[mask].max() if mask.any() else 0.0
        return float(total / n)
    raise ValueError(f"voc_ap mode={mode!r}: use 'area', '11points' or "
                     "'101points'")


def match_class(dets: List[tuple], gts: Dict[int, tuple],
                iou_thrs: Sequence[float]):
    """VOC matching of one class over the dataset, at several thresholds.

    ``dets``: ``(image, score, box[4])``; ``gts``: ``image -> (boxes [G, 4],
    ignore [G] bool)``. Detections are visited by decreasing score (stable
    for ties); each takes the ground truth of highest IoU in its image. If
    that IoU ``> iou_thr`` (strict, as the VOC devkit): an ignored box makes
    the detection neither TP nor FP, an unmatched box makes it a TP (box
    taken), a taken box makes it an FP; otherwise FP.

    Returns ``([tp [D_t] bool per threshold], num_positives)``: the flags of
    the detections that count, in score order, and the number of
    non-ignored boxes.
    """
    npos = int(sum((~ign).sum() for _, ign in gts.values()))
    order = sorted(range(len(dets)), key=lambda i: -dets[i][1])
    # the best box of a detection does not depend on the threshold
    best_iou = np.full(len(dets), -1.0)
    best_j = np.zeros(len(dets), np.int64)
    by_image: Dict[int, List[int]] = {}
    for i in order:
        by_image.setdefault(dets[i][0], []).append(i)
    for img, idx in by_image.items():
        boxes = gts.get(img, (np.zeros((0, 4)), None))[0]
        if len(boxes):
            ious = box_iou_np(np.stack([dets[i][2] for i in idx]), boxes)
            best_j[idx] = ious.argmax(1)
            best_iou[idx] = ious.max(1)
    results = []
    for thr in iou_thrs:
        taken = {img: np.zeros(len(b), bool) for img, (b, _) in gts.items()}
        tp = []
        for i in order:
            if best_iou[i] > thr:
                img, j = dets[i][0], best_j[i]
                if gts[img][1][j]:
                    continue
                tp.append(not taken[img][j])
                taken[img][j] = True
            else:
                tp.append(False)
        results.append(np.asarray(tp, bool))
    return results, npos


def pr_ap(tp: np.ndarray, npos: int, mode: str = 'area') -> float:
    """AP from the TP flags (score order) and the number of positives."""
    if npos == 0:
        return float('nan')
    tps = np.cumsum(tp)
    fps = np.cumsum(~tp)
    recall = tps / npos
    precision = tps / np.maximum(tps + fps, np.finfo(np.float64).eps)
    return voc_ap(recall, precision, mode)


def voc_map(results: Sequence[tuple], num_classes: int,
            iou_thrs: Sequence[float], mode: str = 'area') -> np.ndarray:
    """Per-class AP [T, C] from ``(pred, gt)`` pairs of numpy dicts (see
    :func:`instances_to_numpy`); NaN for classes without ground truth."""
    aps = np.full((len(iou_thrs), num_classes), np.nan)
    for c in range(num_classes):
        dets, gts = [], {}
        for img, (pred, gt) in enumerate(results):
            sel = pred['labels'] == c
            dets += [(img, s, b) for s, b in zip(pred['scores'][sel],
                                                  pred['bboxes'][sel])]
            g = gt['labels'] == c
            gts[img] = (gt['bboxes'][g], gt['ignore'][g])
        tps, npos = match_class(dets, gts, iou_thrs)
        aps[:, c] = [pr_ap(tp, npos, mode) for tp in tps]
    return aps


@METRICS.register_module()
class VOCMetric(BaseMetric):
    """PASCAL VOC detection mAP, plus AMTL's mean over IoU 0.50:0.95.

    For each IoU threshold the AP of every class with non-difficult ground
    truth is computed by VOC matching (:func:`match_class`: difficult boxes
    ignored, duplicates are false positives) and the interpolation
    ``ap_mode`` (``'area'`` all-point VOC2010+, ``'11points'`` VOC2007,
    ``'101points'`` COCO-style); mAP is the mean over those classes.

    Keys (with ``prefix``, default the task name):

    - ``mAP``: mean of the mAPs at IoU 0.50, 0.55, ..., 0.95 (AMTL's
      detection metric),
    - ``AP50``, ``AP75``: mAP at IoU 0.5 / 0.75,
    - with ``classwise=True``, ``AP50_<class>`` per class.

    IoUs use continuous areas (no VOC "+1" pixel) and the strict
    ``IoU > thr`` test of the VOC devkit.

    Args:
        num_classes: default ``len(dataset_meta['classes'])``.
        ap_mode: ``'area'``, ``'11points'`` or ``'101points'``.
        iou_thrs: thresholds averaged into ``mAP``.
        task: task key and default prefix.
    """

    def __init__(self, num_classes: Optional[int] = None,
                 ap_mode: str = 'area',
                 iou_thrs: Sequence[float] = COCO_IOUS,
                 classwise: bool = False, task: str = 'det',
                 prefix: Optional[str] = None, collect_device='cpu'):
        super().__init__(collect_device=collect_device, prefix=prefix or task)
        if ap_mode not in ('area', '11points', '101points'):
            raise ValueError(f"VOCMetric ap_mode={ap_mode!r}: use 'area', "
                             "'11points' or '101points'")
        self.num_classes = num_classes
        self.ap_mode = ap_mode
        self.iou_thrs = [float(t) for t in iou_thrs]
        self.classwise = classwise
        self.task = task

    def _classes(self) -> int:
        if self.num_classes is not None:
            return self.num_classes
        names = (self.dataset_meta or {}).get('classes')
        if not names:
            raise ValueError(f'{type(self).__name__}: set num_classes or '
                             'give the dataset classes in its metainfo')
        return len(names)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        self.results.extend(detection_pairs(data_samples, self.task,
                                            type(self).__name__))

    def compute_metrics(self, results: list) -> dict:
        if not results:
            return {}
        num_classes = self._classes()
        thrs = sorted(set(self.iou_thrs) | {0.5, 0.75})
        per_thr = dict(zip(thrs, voc_map(results, num_classes, thrs,
                                         self.ap_mode)))

        def mean(aps):
            return float(np.nanmean(aps)) if np.isfinite(aps).any() else 0.0

        out = dict(mAP=float(np.mean([mean(per_thr[t])
                                      for t in self.iou_thrs])),
                   AP50=mean(per_thr[0.5]), AP75=mean(per_thr[0.75]))
        if self.classwise:
            names = (self.dataset_meta or {}).get('classes') or [
                str(c) for c in range(num_classes)]
            for name, ap in zip(names, per_thr[0.5]):
                out[f'AP50_{name}'] = float(ap)
            MMLogger.get_current_instance().info(
                f'{self.prefix} per-class AP50: ' + ', '.join(
                    f'{n}={a:.4f}' for n, a in zip(names, per_thr[0.5])))
        return out
