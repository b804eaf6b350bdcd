import math

import numpy as np
import pytest
import torch

from mtlbox.evaluation import DepthMetric, NormalMetric, SegMetric


def _run(metric, samples):
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def test_seg_miou_by_hand():
    gt = torch.tensor([[[0, 0, 1, 1], [2, 2, 255, 1]]])
    pred = torch.tensor([[[0, 1, 1, 1], [2, 0, 0, 1]]])
    # class 0: tp 1, gt 2, pred 2 -> iou 1/3; class 1: tp 3, gt 3, pred 4
    # -> 3/4; class 2: tp 1, gt 2, pred 1 -> 1/2. Ignored pixel skipped.
    m = SegMetric(num_classes=3)
    out = _run(m, [dict(gt_sem_seg=dict(data=gt), pred_sem_seg=dict(data=pred),
                        labeled_tasks=['seg'])])
    assert out['mIoU'] == pytest.approx((1 / 3 + 3 / 4 + 1 / 2) / 3)
    assert out['aAcc'] == pytest.approx(5 / 7)
    assert out['mAcc'] == pytest.approx((1 / 2 + 1 + 1 / 2) / 3)


def test_seg_skips_unlabelled_and_uses_dataset_confusion():
    m = SegMetric(num_classes=2)
    a = dict(gt_sem_seg=dict(data=torch.tensor([[[0, 0]]])),
             pred_sem_seg=dict(data=torch.tensor([[[0, 0]]])),
             labeled_tasks=['seg'])
    b = dict(gt_sem_seg=dict(data=torch.tensor([[[1, 1]]])),
             pred_sem_seg=dict(data=torch.tensor([[[0, 1]]])),
             labeled_tasks=['seg'])
    c = dict(gt_sem_seg=dict(data=torch.tensor([[[1, 1]]])),
             pred_sem_seg=dict(data=torch.tensor([[[0, 0]]])),
             labeled_tasks=['depth'])  # not labelled for seg: skipped
    out = _run(m, [a, b, c])
    # dataset confusion: class 0 tp 2 fp 1 -> 2/3; class 1 tp 1 fn 1 -> 1/2
    assert out['mIoU'] == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_depth_metrics_by_hand():
    gt = torch.tensor([[[1.0, 2.0, 4.0, 0.0]]])  # last pixel invalid
    pred = torch.tensor([[[1.1, 1.0, 4.0, 9.0]]])
    out = _run(DepthMetric(), [dict(gt_depth=dict(data=gt),
                                    pred_depth=dict(data=pred),
                                    labeled_tasks=['depth'])])
    assert out['abs_err'] == pytest.approx((0.1 + 1.0 + 0.0) / 3)
    assert out['abs_rel'] == pytest.approx((0.1 + 0.5 + 0.0) / 3)
    assert out['rmse'] == pytest.approx(math.sqrt((0.01 + 1.0) / 3))
    # ratios 1.1, 2.0, 1.0: 2.0 exceeds 1.25, 1.5625 and 1.953125
    assert out['delta1'] == pytest.approx(2 / 3)
    assert out['delta2'] == pytest.approx(2 / 3)
    assert out['delta3'] == pytest.approx(2 / 3)
    rmse_log = math.sqrt((math.log(1.1)**2 + math.log(0.5)**2) / 3)
    assert out['rmse_log'] == pytest.approx(rmse_log)


def test_depth_pixels_weigh_equally_across_images():
    a = dict(gt_depth=dict(data=torch.ones(1, 1, 3)),
             pred_depth=dict(data=torch.ones(1, 1, 3)), labeled_tasks=['depth'])
    b = dict(gt_depth=dict(data=torch.ones(1, 1, 1)),
             pred_depth=dict(data=torch.full((1, 1, 1), 2.0)),
             labeled_tasks=['depth'])
    assert _run(DepthMetric(), [a, b])['abs_err'] == pytest.approx(1 / 4)


def test_normal_angles_by_hand():
    gt = torch.zeros(3, 1, 5)
    gt[2] = 1  # all facing +z
    gt[:, 0, 4] = 0  # invalid pixel
    angles = [0.0, 10.0, 20.0, 45.0]
    pred = torch.zeros(3, 1, 5)
    for i, a in enumerate(angles):
        pred[0, 0, i] = math.sin(math.radians(a)) * 3  # unnormalised
        pred[2, 0, i] = math.cos(math.radians(a)) * 3
    pred[:, 0, 4] = torch.tensor([1.0, 0, 0])
    out = _run(NormalMetric(), [dict(gt_normal=dict(data=gt),
                                     pred_normal=dict(data=pred),
                                     labeled_tasks=['normal'])])
    assert out['mean'] == pytest.approx(np.mean(angles), abs=1e-4)
    assert out['median'] == pytest.approx(15.0, abs=0.01)  # numpy.median
    assert out['11.25'] == pytest.approx(0.5)
    assert out['22.5'] == pytest.approx(0.75)
    assert out['30'] == pytest.approx(0.75)


@pytest.mark.parametrize('bad', [255, 2, -1])
def test_seg_prediction_outside_classes_is_a_miss(bad):
    # gt (0, 0, 1, 1), pred (0, 0, 1, bad) with 2 classes: the last pixel is
    # wrong for its class 1 and a hit for no class (as mmseg): class 0
    # tp 2 / union 2 = 1, class 1 tp 1 / union 2 = 1/2 -> mIoU 0.75
    gt = torch.tensor([[[0, 0, 1, 1]]])
    pred = torch.tensor([[[0, 0, 1, bad]]])
    out = _run(SegMetric(num_classes=2),
               [dict(gt_sem_seg=dict(data=gt), pred_sem_seg=dict(data=pred),
                     labeled_tasks=['seg'])])
    assert out['mIoU'] == pytest.approx(0.75)
    assert out['mAcc'] == pytest.approx(0.75)
    assert out['aAcc'] == pytest.approx(0.75)


def test_seg_255_prediction_with_five_classes():
    # C = 5 used to crash (bincount longer than C^2). gt (0, 1, 2, 3, 4, 4),
    # pred (0, 1, 2, 3, 255, 4): classes 0-3 IoU 1, class 4 tp 1 / union 2
    gt = torch.tensor([[[0, 1, 2, 3, 4, 4]]])
    pred = torch.tensor([[[0, 1, 2, 3, 255, 4]]])
    out = _run(SegMetric(num_classes=5, classwise=True),
               [dict(gt_sem_seg=dict(data=gt), pred_sem_seg=dict(data=pred),
                     labeled_tasks=['seg'])])
    assert out['mIoU'] == pytest.approx((4 + 0.5) / 5)
    assert out['IoU_4'] == pytest.approx(0.5)
    assert out['aAcc'] == pytest.approx(5 / 6)
