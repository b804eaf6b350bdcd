"""VOC mAP by hand and against pycocotools."""
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData

from mtlbox.evaluation import COCOMetric, VOCMetric
from mtlbox.evaluation.metrics.voc_metric import voc_ap


def sample(gt_boxes, gt_labels, det_boxes, det_scores, det_labels,
           ignore=None, tasks=('det',)):
    gt = InstanceData(bboxes=torch.tensor(gt_boxes, dtype=torch.float32)
                      .reshape(-1, 4),
                      labels=torch.tensor(gt_labels, dtype=torch.long))
    gt.ignore_flags = torch.tensor(ignore if ignore is not None
                                   else [False] * len(gt_labels))
    pred = InstanceData(bboxes=torch.tensor(det_boxes, dtype=torch.float32)
                        .reshape(-1, 4),
                        scores=torch.tensor(det_scores, dtype=torch.float32),
                        labels=torch.tensor(det_labels, dtype=torch.long))
    return dict(gt_instances=gt.to_dict(), pred_instances=pred.to_dict(),
                labeled_tasks=list(tasks))


def run(metric, samples):
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def test_voc_ap_on_a_pr_curve_by_hand():
    # TP F TP F TP with 3 positives
    rec = np.array([1, 1, 2, 2, 3]) / 3
    prec = np.array([1, 1 / 2, 2 / 3, 2 / 4, 3 / 5])
    # envelope 1, 2/3, 0.6 at the recall steps of 1/3 each
    assert voc_ap(rec, prec, 'area') == pytest.approx((1 + 2 / 3 + 0.6) / 3)
    # 11 points: t=0..0.3 -> 1, t=0.4..0.6 -> 2/3, t=0.7..1 -> 0.6
    assert voc_ap(rec, prec, '11points') == pytest.approx(
        (4 + 3 * 2 / 3 + 4 * 0.6) / 11)
    # 101 points: 34 x 1, 33 x 2/3, 34 x 0.6
    assert voc_ap(rec, prec, '101points') == pytest.approx(
        (34 + 22 + 20.4) / 101)


# one image, class 0: three boxes; detections: exact hit (.9), false (.8),
# exact hit (.7), duplicate of the first (.6), shifted hit IoU 90/110 (.5)
HAND = sample([[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10]], [0, 0, 0],
              [[0, 0, 10, 10], [60, 0, 70, 10], [20, 0, 30, 10],
               [0, 0, 10, 10], [41, 0, 51, 10]], [.9, .8, .7, .6, .5],
              [0, 0, 0, 0, 0])


def test_voc_metric_hand_case():
    out = run(VOCMetric(num_classes=1), [HAND])
    ap_low = (1 + 2 / 3 + 0.6) / 3  # IoU thresholds 0.50 .. 0.80 (7 of 10)
    ap_high = (1 + 2 / 3) / 3  # 0.85 .. 0.95: the shifted box is an FP
    assert out['AP50'] == pytest.approx(ap_low)
    assert out['AP75'] == pytest.approx(ap_low)
    assert out['mAP'] == pytest.approx((7 * ap_low + 3 * ap_high) / 10)
    out11 = run(VOCMetric(num_classes=1, ap_mode='11points'), [HAND])
    assert out11['AP50'] == pytest.approx((4 + 2 + 2.4) / 11)


def test_perfect_missed_difficult_and_unlabelled():
    perfect = sample([[0, 0, 10, 10], [20, 20, 40, 40]], [0, 1],
                     [[0, 0, 10, 10], [20, 20, 40, 40]], [.9, .8], [0, 1])
    assert run(VOCMetric(num_classes=2), [perfect])['mAP'] == 1.0
    assert run(COCOMetric(num_classes=2), [perfect])['coco_AP'] == \
        pytest.approx(1.0)
    missed = sample([[0, 0, 10, 10], [20, 0, 30, 10]], [0, 0],
                    [[0, 0, 10, 10]], [.9], [0])
    assert run(VOCMetric(num_classes=1), [missed])['AP50'] == 0.5
    # 101 points: recall 0.5 reached -> thresholds 0..0.5 (51 of 101)
    assert run(COCOMetric(num_classes=1), [missed])['coco_AP50'] == \
        pytest.approx(51 / 101)
    # a detection on a difficult box is neither TP nor FP, the box is no miss
    difficult = sample([[0, 0, 10, 10], [20, 0, 30, 10]], [0, 0],
                       [[20, 0, 30, 10], [0, 0, 10, 10]], [.9, .8], [0, 0],
                       ignore=[False, True])
    assert run(VOCMetric(num_classes=1), [difficult])['AP50'] == 1.0
    coco = run(COCOMetric(num_classes=1), [difficult])
    assert coco['coco_AP50'] == pytest.approx(1.0)
    # samples not labelled for the task are skipped
    other = dict(perfect, labeled_tasks=['seg'])
    assert run(VOCMetric(num_classes=2), [other]) == {}


def test_pycocotools_agrees_on_hand_case():
    voc = run(VOCMetric(num_classes=1, ap_mode='101points'), [HAND])
    coco = run(COCOMetric(num_classes=1), [HAND])
    assert coco['coco_AP50'] == pytest.approx((34 + 22 + 20.4) / 101,
                                              abs=1e-6)
    for a, b in (('mAP', 'coco_AP'), ('AP50', 'coco_AP50'),
                 ('AP75', 'coco_AP75')):
        assert voc[a] == pytest.approx(coco[b], abs=1e-6)


def random_case(rng, num_images=6, num_classes=3):
    """Disjoint ground truth on a grid (so no detection can match two boxes
    above IoU 0.5 and VOC/COCO matching coincide), jittered detections and
    false positives with distinct random scores."""
    samples = []
    for _ in range(num_images):
        cells = rng.choice(16, size=rng.integers(1, 8), replace=False)
        gts, labels, dets, scores, dlabels = [], [], [], [], []
        for c in cells:
            x, y = (c % 4) * 50 + 5, (c // 4) * 50 + 5
            w, h = rng.uniform(15, 40, 2)
            gts.append([x, y, x + w, y + h])
            labels.append(int(rng.integers(num_classes)))
            if rng.random() < 0.8:  # detected, with jitter
                j = rng.normal(0, 3, 4)
                dets.append([x + j[0], y + j[1], x + w + j[2], y + h + j[3]])
                scores.append(rng.random())
                dlabels.append(labels[-1] if rng.random() < 0.9 else
                               int(rng.integers(num_classes)))
        for _ in range(rng.integers(0, 4)):  # false positives
            x, y = rng.uniform(0, 180, 2)
            dets.append([x, y, x + 20, y + 20])
            scores.append(rng.random())
            dlabels.append(int(rng.integers(num_classes)))
        samples.append(sample(gts, labels, dets, scores, dlabels))
    return samples


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_pycocotools_agrees_on_random_boxes(seed):
    samples = random_case(np.random.default_rng(seed))
    voc = run(VOCMetric(num_classes=3, ap_mode='101points'), samples)
    coco = run(COCOMetric(num_classes=3), samples)
    assert voc['mAP'] == pytest.approx(coco['coco_AP'], abs=1e-6)
    assert voc['AP50'] == pytest.approx(coco['coco_AP50'], abs=1e-6)
    assert voc['AP75'] == pytest.approx(coco['coco_AP75'], abs=1e-6)


def pycocotools_stats(gt_per_image, num_classes):
    """pycocotools' own COCOeval on ground truth lists ``[(xyxy, label)]``
    per image and no detection at all (``loadRes`` cannot take an empty
    list, so the empty result set is indexed directly)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    import contextlib
    import io
    images = [dict(id=i) for i in range(len(gt_per_image))]
    anns = []
    for img_id, boxes in enumerate(gt_per_image):
        for (x1, y1, x2, y2), label in boxes:
            anns.append(dict(id=len(anns) + 1, image_id=img_id,
                             category_id=label, iscrowd=0,
                             bbox=[x1, y1, x2 - x1, y2 - y1],
                             area=(x2 - x1) * (y2 - y1)))
    cats = [dict(id=c) for c in range(num_classes)]
    gt, dt = COCO(), COCO()
    gt.dataset = dict(images=images, annotations=anns, categories=cats)
    dt.dataset = dict(images=images, annotations=[], categories=cats)
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        dt.createIndex()
        ev = COCOeval(gt, dt, 'bbox')
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats


def test_coco_no_detections_matches_pycocotools():
    # one medium box (50 x 50) and no detection: AP 0 where ground truth of
    # that size exists, -1 (undefined) for small and large, as pycocotools
    gt_boxes = [([10, 10, 60, 60], 0)]
    none = sample([b for b, _ in gt_boxes], [l for _, l in gt_boxes],
                  [], [], [])
    out = run(COCOMetric(num_classes=1), [none])
    ref = pycocotools_stats([gt_boxes], 1)
    assert ref[:6].tolist() == [0.0, 0.0, 0.0, -1.0, 0.0, -1.0]
    assert [out[f'coco_{k}'] for k in
            ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl')] == ref[:6].tolist()
