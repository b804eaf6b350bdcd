import torch

from mtlbox.models.necks import FPN


def test_fpn_shapes_odd_sizes():
    neck = FPN([8, 16, 32], out_channels=4)
    outs = neck([torch.randn(2, 8, 17, 12), torch.randn(2, 16, 9, 6),
                 torch.randn(2, 32, 5, 3)])
    assert [tuple(o.shape) for o in outs] == [(2, 4, 17, 12), (2, 4, 9, 6),
                                              (2, 4, 5, 3)]
