"""NDDR-CNN: identity-block initialisation, BN momentum, the layer by hand."""
import torch

from mtlbox.models.architectures import NDDR

COLUMN = dict(type='ResNet', depth=18, out_indices=(0, ))


def test_identity_block_init_and_bn_momentum():
    arch = NDDR(COLUMN, tasks=['a', 'b', 'c'])
    assert arch.mix_stages == (0, )
    layers = arch.nddr_layers[0]
    assert len(layers) == 3
    c = 64
    for t, layer in enumerate(layers):
        conv, bn = layer[0], layer[1]
        assert conv.weight.shape == (c, 3 * c, 1, 1) and conv.bias is None
        assert bn.momentum == 0.05
        w = conv.weight[:, :, 0, 0]
        for s in range(3):
            block = w[:, s * c:(s + 1) * c]
            torch.testing.assert_close(
                block, torch.eye(c) * (0.8 if s == t else 0.05))


def test_nddr_layer_by_hand():
    """At init, in eval mode (BN running mean 0, var 1), task t's map is
    ``relu((0.8 x_t + 0.05 sum_{s != t} x_s) / sqrt(1 + eps))``."""
    arch = NDDR(COLUMN, tasks=['a', 'b']).eval()
    xs = [torch.randn(2, 64, 4, 4), torch.randn(2, 64, 4, 4)]
    with torch.no_grad():
        out = arch.mix(0, 0, xs)
    eps = arch.nddr_layers[0][0][1].eps
    for t in range(2):
        expected = (0.8 * xs[t] + 0.05 * xs[1 - t]) / (1 + eps)**0.5
        torch.testing.assert_close(out[t], expected.clamp_min(0))


def test_nddr_shapes_with_multi_level_columns():
    arch = NDDR(dict(type='MobileNetV3', arch='small', out_indices=(1, 2)),
                tasks=['a', 'b']).eval()
    assert arch.mix_stages == (0, 1, 2)
    assert [l[0][0].in_channels for l in arch.nddr_layers] == [32, 32, 48]
    out = arch([torch.randn(1, 3, 33, 33)], ['a', 'b'])
    assert [tuple(o.shape) for o in out['a']] == [(1, 24, 5, 5),
                                                   (1, 48, 3, 3)]
