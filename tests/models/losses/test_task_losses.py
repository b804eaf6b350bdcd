"""Dense-task losses on hand-computed cases."""
import math

import pytest
import torch

from mtlbox.models.losses import (BalancedBCELoss, CrossEntropyLoss,
                                  DepthL1Loss, NormalL1Loss, PixelL1Loss,
                                  SILogLoss, SSIMLoss)


def test_balanced_bce_by_hand():
    logits = torch.zeros(1, 1, 1, 4)  # p = 0.5 -> each BCE term log 2
    target = torch.tensor([[[[1, 0, 0, 255]]]])
    plain = BalancedBCELoss(balanced=False)(logits, target)
    assert plain.item() == pytest.approx(math.log(2))
    # 1 positive, 2 negatives: w+ = 2/3, w- = 1/3 -> (2/3 + 2/3) log2 / 3
    bal = BalancedBCELoss()(logits, target)
    assert bal.item() == pytest.approx((2 / 3 + 2 * 1 / 3) * math.log(2) / 3)
    fixed = BalancedBCELoss(pos_weight=0.9)(logits, target)
    assert fixed.item() == pytest.approx((0.9 + 0.2) * math.log(2) / 3)


def test_label_smoothing_by_hand():
    # logits 0 for 2 classes: p = 1/2 each; smoothing changes nothing
    ce = CrossEntropyLoss(label_smoothing=0.2)
    assert ce(torch.zeros(1, 2, 1, 1), torch.zeros(1, 1, 1).long()).item() \
        == pytest.approx(math.log(2))
    # logits (log 3, 0): p = (3/4, 1/4); target q = (0.9, 0.1)
    logits = torch.tensor([[math.log(3.0), 0.0]]).reshape(1, 2, 1, 1)
    got = ce(logits, torch.zeros(1, 1, 1).long()).item()
    assert got == pytest.approx(-(0.9 * math.log(0.75) + 0.1 * math.log(0.25)))


def test_silog_by_hand():
    gt = torch.tensor([1.0, 1.0, 0.0]).reshape(1, 1, 1, 3)
    pred = torch.tensor([math.e, 1.0, 7.0]).reshape(1, 1, 1, 3)
    # d = (1, 0): mean d^2 = 0.5, mean d = 0.5 -> sqrt(0.5 - 0.85 * 0.25)
    got = SILogLoss(eps=0)(pred, gt).item()
    assert got == pytest.approx(math.sqrt(0.5 - 0.85 * 0.25), rel=1e-5)
    # scale invariance with lambda = 1: pred = 2 gt -> 0
    gt = torch.tensor([1.0, 3.0]).reshape(1, 1, 1, 2)
    assert SILogLoss(variance_focus=1.0, eps=0)(2 * gt, gt).item() \
        == pytest.approx(0.0, abs=1e-6)


def test_depth_l1_valid_range():
    gt = torch.tensor([1.0, 20.0, 0.0]).reshape(1, 1, 1, 3)
    pred = torch.tensor([2.0, 0.0, 5.0]).reshape(1, 1, 1, 3)
    assert DepthL1Loss(max_depth=10)(pred, gt).item() == pytest.approx(1.0)
    assert DepthL1Loss()(pred, gt).item() == pytest.approx(21 / 2)


def test_normal_l1_and_pixel_losses():
    gt = torch.tensor([0.0, 0.0, 1.0]).reshape(1, 3, 1, 1)
    pred = torch.tensor([0.0, 2.0, 0.0]).reshape(1, 3, 1, 1)  # -> (0,1,0)
    assert NormalL1Loss()(pred, gt).item() == pytest.approx(2.0)
    a = torch.zeros(2, 3, 16, 16)
    b = a + 0.25
    valid = torch.zeros(2, 16, 16, dtype=torch.bool)
    valid[0, :4] = True
    assert PixelL1Loss()(a, b, valid).item() == pytest.approx(0.25)
    per = PixelL1Loss()(a, b, valid, per_sample=True)
    assert per.tolist() == [0.25, 0.0]
    img = torch.rand(1, 3, 16, 16)
    assert SSIMLoss()(img, img).item() == pytest.approx(0.0, abs=1e-5)
    assert SSIMLoss()(img, 1 - img).item() > 0.5
