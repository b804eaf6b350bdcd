import pytest
import torch
from torch import nn

from mtlbox.models.necks import ASPP


def test_aspp_shapes_and_rates():
    neck = ASPP(in_channels=32, channels=16, dilations=(12, 24, 36))
    assert [b[0].dilation for b in neck.branches] == [(1, 1), (12, 12),
                                                      (24, 24), (36, 36)]
    out = neck([torch.randn(2, 8, 9, 7), torch.randn(2, 32, 9, 7)])
    assert neck.out_channels == [16]
    assert len(out) == 1 and out[0].shape == (2, 16, 9, 7)
    # batch of one in training works (running statistics in the pool BN)
    assert neck([torch.randn(1, 32, 5, 5)])[0].shape == (1, 16, 5, 5)


def test_image_pool_branch_is_constant_over_space():
    neck = ASPP(in_channels=4, channels=4, dilations=(), dropout=0.).eval()
    # keep only the pooling branch: zero the 1x1 branch's BN
    nn.init.zeros_(neck.branches[0][1].weight)
    nn.init.zeros_(neck.branches[0][1].bias)
    out = neck([torch.randn(1, 4, 6, 6)])[0]
    torch.testing.assert_close(out, out[:, :, :1, :1].expand_as(out))


def test_aspp_needs_one_int():
    with pytest.raises(TypeError, match='in_channels'):
        ASPP(in_channels=[32, 64])
