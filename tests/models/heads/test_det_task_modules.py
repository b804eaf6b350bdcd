"""Anchors, SSD coder and ATSS assignment on hand-worked cases."""
import math

import pytest
import torch

from mtlbox.models.task_modules import (AnchorGenerator, atss_assign,
                                        decode_ssd, encode_ssd, grid_anchors)


def test_grid_anchors_by_hand():
    # 1 x 2 grid, stride 8, side 16, ratios h/w = 1 and 2
    a = grid_anchors((1, 2), 8, 16, (1.0, 2.0))
    w2, h2 = 16 / math.sqrt(2), 16 * math.sqrt(2)
    expected = torch.tensor([
        [-4, -4, 12, 12],
        [4 - w2 / 2, 4 - h2 / 2, 4 + w2 / 2, 4 + h2 / 2],
        [4, -4, 20, 12],
        [12 - w2 / 2, 4 - h2 / 2, 12 + w2 / 2, 4 + h2 / 2]])
    assert torch.allclose(a, expected, atol=1e-5)


def test_anchor_generator_levels_and_errors():
    gen = AnchorGenerator(strides=(4, 8), sizes=(8, 16))
    out = gen([(2, 3), (1, 2)])
    assert [len(x) for x in out] == [2 * 3 * 3, 1 * 2 * 3]
    with pytest.raises(ValueError, match='levels'):
        gen([(2, 3)])
    with pytest.raises(ValueError, match='one entry per level'):
        AnchorGenerator(strides=(4, 8), sizes=(8,))


def test_ssd_encoding_by_hand_and_round_trip():
    anchor = torch.tensor([[0., 0., 10., 20.]])  # c=(5,10), w=10, h=20
    box = torch.tensor([[2., 4., 12., 44.]])  # c=(7,24), w=10, h=40
    deltas = encode_ssd(anchor, box, (0.1, 0.2))
    # dx = 2/(0.1*10), dy = 14/(0.1*20), dw = log 1 / 0.2, dh = log 2 / 0.2
    assert torch.allclose(deltas, torch.tensor(
        [[2.0, 7.0, 0.0, math.log(2) / 0.2]]), atol=1e-6)
    assert torch.allclose(decode_ssd(anchor, deltas), box, atol=1e-5)
    g = torch.Generator().manual_seed(0)
    anchors = torch.rand(50, 2, generator=g) * 50
    anchors = torch.cat([anchors, anchors + 5 + torch.rand(50, 2, generator=g)
                         * 30], 1)
    boxes = torch.rand(50, 2, generator=g) * 50
    boxes = torch.cat([boxes, boxes + 1 + torch.rand(50, 2, generator=g) * 60],
                      1)
    assert torch.allclose(decode_ssd(anchors, encode_ssd(anchors, boxes)),
                          boxes, atol=1e-4)


# Hand-built anchors: level 0 = a0..a2 (10x10), level 1 = a3, a4 (20x20).
ANCHORS = torch.tensor([[0., 0., 10., 10.], [10., 0., 20., 10.],
                        [20., 0., 30., 10.], [0., 0., 20., 20.],
                        [20., 0., 40., 20.]])
GTS = torch.tensor([[0., 0., 16., 10.], [22., 0., 32., 12.]])


def test_atss_assignment_two_boxes_by_hand():
    """topk=2 per level.

    g0 = [0,0,16,10], centre (8,5): candidates a0, a1 (distances 3, 7) and
    a3, a4; IoUs 0.625, 0.3, 0.4, 0 -> mean 0.33125, unbiased std 0.259306,
    threshold 0.590556: only a0 (centre (5,5) inside g0) is positive.
    g1 = [22,0,32,12], centre (27,6): candidates a2, a1 and a4, a3; IoUs
    80/140 = 0.571429, 0, 0.3, 0 -> mean 0.217857, std 0.274884, threshold
    0.492741: only a2 (centre (25,5) inside g1).
    """
    res = atss_assign(ANCHORS, [3, 2], GTS, topk=2)
    assert res.gt_inds.tolist() == [1, 0, 2, 0, 0]
    assert torch.allclose(res.max_iou, torch.tensor(
        [0.625, 0, 80 / 140, 0, 0]), atol=1e-6)


def test_atss_ignored_box_gives_ignored_anchor():
    res = atss_assign(ANCHORS, [3, 2], GTS, torch.tensor([False, True]),
                      topk=2)
    assert res.gt_inds.tolist() == [1, 0, -1, 0, 0]


def test_atss_centre_must_be_inside():
    # box [6,0,16,10], centre (11,5): candidates a1 (d 4), a0 (d 6), a3, a4;
    # IoUs 60/140, 40/160, 100/400, 0 -> thr = 0.232143 + 0.176174 =
    # 0.408317: a1 (0.428571, centre (15,5) inside) is the only positive.
    box = torch.tensor([[6., 0., 16., 10.]])
    res = atss_assign(ANCHORS, [3, 2], box, topk=2)
    assert res.gt_inds.tolist() == [0, 1, 0, 0, 0]
    # a box whose best anchors have centres outside: [16,0,24,10]; a1 IoU
    # 40/140=0.2857, a2 40/140, centres 15 and 25 both outside -> none
    box = torch.tensor([[16., 0., 24., 10.]])
    res = atss_assign(ANCHORS, [3, 2], box, topk=2)
    assert res.gt_inds.tolist() == [0, 0, 0, 0, 0]


def test_atss_no_boxes():
    res = atss_assign(ANCHORS, [3, 2], torch.zeros(0, 4), topk=2)
    assert res.gt_inds.tolist() == [0] * 5
