"""TRIV2-BiFPN: shapes at odd sizes and the top-down/bottom-up sums."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mtlbox.models.necks import MBConv, TRIV2BiFPN


def _levels(sizes=((9, 6), (5, 3), (3, 2)), channels=(64, 160, 256)):
    return [torch.randn(2, c, *s) for c, s in zip(channels, sizes)]


def test_shapes_odd_sizes():
    neck = TRIV2BiFPN([64, 160, 256], out_channels=64, num_repeats=2).eval()
    outs = neck(_levels())
    assert neck.out_channels == [64] * 3
    assert [tuple(o.shape) for o in outs] == [(2, 64, 9, 6), (2, 64, 5, 3),
                                              (2, 64, 3, 2)]


def test_structure_counts():
    neck = TRIV2BiFPN([64, 160, 256], out_channels=64, num_repeats=2)
    assert len(neck.bottom_up) == 2 and all(len(r) == 2
                                            for r in neck.bottom_up)
    mb = neck.bottom_up[0][0]
    convs = [m for m in mb.modules() if isinstance(m, nn.Conv2d)]
    # expand 64 -> 128 (1x1), depthwise 3x3 stride 2, project 128 -> 64
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride,
             c.groups) for c in convs] == [(64, 128, (1, 1), (1, 1), 1),
                                           (128, 128, (3, 3), (2, 2), 128),
                                           (128, 64, (1, 1), (1, 1), 1)]
    assert isinstance(mb[2], nn.ReLU6) and not mb.use_residual
    # transitions: 1x1 conv, BN, ReLU6
    t = neck.transitions[1]
    assert t[0].kernel_size == (1, 1) and t[0].in_channels == 160
    assert isinstance(t[2], nn.ReLU6)


def test_top_down_sums_when_bottom_up_is_zero():
    """With every bottom-up MBConv zeroed (last BN weight = bias = 0) one
    repeat is the pure top-down pass: O_2 = P_2, O_1 = P_1 + up(P_2),
    O_0 = P_0 + up(P_1 + up(P_2)) with nearest upsampling, where P_l are the
    transition outputs."""
    torch.manual_seed(0)
    neck = TRIV2BiFPN([8, 16, 32], out_channels=8, num_repeats=1).eval()
    for mb in neck.bottom_up[0]:
        nn.init.zeros_(mb[-1].weight)
        nn.init.zeros_(mb[-1].bias)
    feats = _levels(((16, 16), (8, 8), (4, 4)), (8, 16, 32))
    p = [t(f) for t, f in zip(neck.transitions, feats)]
    up = lambda x: F.interpolate(x, scale_factor=2, mode='nearest')  # noqa
    with torch.no_grad():
        outs = neck(feats)
        torch.testing.assert_close(outs[2], p[2])
        torch.testing.assert_close(outs[1], p[1] + up(p[2]))
        torch.testing.assert_close(outs[0], p[0] + up(p[1] + up(p[2])))


def test_bottom_up_adds_the_mbconv_of_the_finer_output():
    torch.manual_seed(0)
    neck = TRIV2BiFPN([8, 16], out_channels=8, num_repeats=1).eval()
    feats = _levels(((8, 8), (4, 4)), (8, 16))
    with torch.no_grad():
        p = [t(f) for t, f in zip(neck.transitions, feats)]
        o0 = p[0] + F.interpolate(p[1], scale_factor=2, mode='nearest')
        o1 = p[1] + neck.bottom_up[0][0](o0)
        outs = neck(feats)
    torch.testing.assert_close(outs[0], o0)
    torch.testing.assert_close(outs[1], o1)


def test_mbconv_residual_only_when_shapes_match():
    assert MBConv(8, 8, stride=1).use_residual
    assert not MBConv(8, 16, stride=1).use_residual


def test_wrong_number_of_levels():
    neck = TRIV2BiFPN([8, 16, 32])
    with pytest.raises(ValueError, match='out_indices'):
        neck(_levels(((8, 8), (4, 4)), (8, 16)))
