"""IoU-aware focal loss and CIoU loss on hand-computed cases."""
import math

import torch
from torchvision.ops import sigmoid_focal_loss

from mtlbox.models.losses import (CIoULoss, IoUAwareFocalLoss, ciou_loss,
                                  iou_aware_focal_loss)


def test_focal_two_elements_by_hand():
    # p = 0.5 (positive, t = 1) and p = 0.75 (negative, t = 0)
    logits = torch.tensor([[0.0, math.log(3.0)]])
    targets = torch.tensor([[1.0, 0.0]])
    pos = torch.tensor([[True, False]])
    loss = iou_aware_focal_loss(logits, targets, pos, 0.25, 2.0)
    expected = torch.tensor([[0.25 * 0.5**2 * math.log(2),
                              0.75 * 0.75**2 * math.log(4)]])
    assert torch.allclose(loss, expected, atol=1e-6)
    # binary targets: identical to torchvision's sigmoid focal loss
    g = torch.Generator().manual_seed(0)
    x = torch.randn(20, 3, generator=g)
    y = (torch.rand(20, 3, generator=g) > 0.7).float()
    assert torch.allclose(iou_aware_focal_loss(x, y, y.bool()),
                          sigmoid_focal_loss(x, y, reduction='none'),
                          atol=1e-6)


def test_focal_soft_target_and_normalisation():
    # t = 0.6 at p = 0.5: 0.25 * 0.1^2 * BCE(0.5; 0.6) = 0.25*0.01*log 2
    loss = iou_aware_focal_loss(torch.zeros(1, 1), torch.tensor([[0.6]]),
                                torch.tensor([[True]]))
    assert abs(loss.item() - 0.0025 * math.log(2)) < 1e-7
    module = IoUAwareFocalLoss(loss_weight=2.0)
    logits = torch.tensor([[0.0, math.log(3.0)]])
    out = module(logits, torch.tensor([[1.0, 0.0]]),
                 torch.tensor([[True, False]]), avg_factor=4,
                 valid=torch.tensor([True]))
    total = 0.25 * 0.25 * math.log(2) + 0.75 * 0.5625 * math.log(4)
    assert abs(out.item() - 2.0 * total / 4) < 1e-6
    # an ignored anchor contributes nothing
    out = module(logits, torch.tensor([[1.0, 0.0]]),
                 torch.tensor([[True, False]]), valid=torch.tensor([False]))
    assert out.item() == 0.0


def test_ciou_by_hand():
    # identical boxes: 0. Same size, shifted by 2 along x:
    # IoU = 8*10/(2*100-80) = 2/3; rho^2 = 4; enclosing 12 x 10 -> c^2 = 244;
    # equal aspect -> v = 0: loss = 1 - 2/3 + 4/244
    a = torch.tensor([[0., 0., 10., 10.], [0., 0., 10., 10.]])
    b = torch.tensor([[0., 0., 10., 10.], [2., 0., 12., 10.]])
    loss = ciou_loss(a, b)
    assert abs(loss[0].item()) < 1e-6
    assert abs(loss[1].item() - (1 - 2 / 3 + 4 / 244)) < 1e-5
    # aspect term: [0,0,10,10] vs [0,0,10,20]: IoU 0.5, rho^2 = 25,
    # c^2 = 500, v = 4/pi^2 (atan(0.5) - atan(1))^2, a = v / (1 - 0.5 + v)
    v = 4 / math.pi**2 * (math.atan(0.5) - math.atan(1.0))**2
    expected = 1 - 0.5 + 25 / 500 + v * v / (0.5 + v)
    got = ciou_loss(torch.tensor([[0., 0., 10., 10.]]),
                    torch.tensor([[0., 0., 10., 20.]]))
    assert abs(got.item() - expected) < 1e-5
    assert abs(CIoULoss(loss_weight=10)(a, b, avg_factor=2).item()
               - 10 * (1 - 2 / 3 + 4 / 244) / 2) < 1e-4
