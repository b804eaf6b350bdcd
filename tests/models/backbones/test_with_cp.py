"""Activation checkpointing (``with_cp=True``) changes memory, not numbers:
the same outputs, loss, parameter gradients and BatchNorm running statistics
as without it, for every backbone family and neck, in training mode."""
import copy

import pytest
import torch

from mtlbox.registry import MODELS

IMG = (2, 3, 36, 44)  # not multiples of 32: odd sizes through every stride
CASES = {
    'ResNet-18': (dict(type='ResNet', depth=18, out_indices=(0, 1, 2, 3)),
                  IMG),
    'ResNet-50-dilated': (dict(type='ResNet', depth=50, out_indices=(3, ),
                               dilations=(False, True, True)), (2, 3, 20, 24)),
    'EfficientNetV2-s': (dict(type='EfficientNetV2', arch='s',
                              drop_path_rate=0.2), IMG),
    'MobileNetV2': (dict(type='MobileNetV2', widen_factor=0.5), IMG),
    'MobileNetV3-small': (dict(type='MobileNetV3', arch='small'), IMG),
    'SquadNet': (dict(type='SquadNet', num_tasks=2, num_shared=1, channels=4,
                      depths=(1, 2, 1), out_indices=(0, 1, 2)), IMG),
    'NoSquadNet': (dict(type='NoSquadNet', num_tasks=2, num_shared=1,
                        channels=4, depths=(1, 1, 1)), IMG),
    'SegNet': (dict(type='SegNet', widths=(4, 8, 8, 16, 16), out='all'),
               (2, 3, 32, 64)),
    'CelebAConvNet': (dict(type='CelebAConvNet'), (3, 3, 16, 16)),
    'SmallConvNet': (dict(type='SmallConvNet', in_channels=1,
                          input_size=(28, 28)), (2, 1, 28, 28)),
    'MLP': (dict(type='MLP', in_dim=5, hidden=(7, 6)), (4, 5)),
    'FPN': (dict(type='FPN', in_channels=[3, 5, 6], out_channels=8), None),
    'TRIV2BiFPN': (dict(type='TRIV2BiFPN', in_channels=[3, 5, 6],
                        out_channels=8), None),
    'ASPP': (dict(type='ASPP', in_channels=6, channels=8, dilations=(1, 2)),
             None),
}


def _inputs(shape):
    g = torch.Generator().manual_seed(1)
    if shape is not None:
        return torch.randn(*shape, generator=g)
    # neck levels, finest first, with odd sizes
    return [torch.randn(2, c, h, w, generator=g)
            for c, (h, w) in zip((3, 5, 6), ((9, 11), (5, 6), (3, 3)))]


def _step(module, inputs):
    """Outputs, a loss that weighs every output element differently, its
    parameter gradients and the buffers after one training forward."""
    torch.manual_seed(0)  # dropout, stochastic depth
    module.train()
    outs = module(inputs)
    loss = sum((o * torch.linspace(-1, 2, o.numel()).view_as(o)).sum()
               for o in outs)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in module.named_parameters()
             if p.grad is not None}
    buffers = {n: b.clone() for n, b in module.named_buffers()}
    return [o.detach() for o in outs], loss.detach(), grads, buffers


@pytest.mark.parametrize('name', list(CASES))
def test_checkpointing_keeps_loss_gradients_and_statistics(name):
    cfg, shape = CASES[name]
    torch.manual_seed(0)
    plain = MODELS.build(cfg)
    checkpointed = copy.deepcopy(plain)
    checkpointed.with_cp = True
    inputs = _inputs(shape)
    outs_a, loss_a, grads_a, bufs_a = _step(plain, inputs)
    outs_b, loss_b, grads_b, bufs_b = _step(checkpointed, inputs)
    for a, b in zip(outs_a, outs_b):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(loss_b, loss_a, rtol=1e-5, atol=1e-5)
    assert grads_a and set(grads_b) == set(grads_a)
    for n in grads_a:
        torch.testing.assert_close(grads_b[n], grads_a[n], rtol=1e-4,
                                   atol=1e-5, msg=n)
    for n in bufs_a:  # BN statistics moved once, not twice
        torch.testing.assert_close(bufs_b[n], bufs_a[n], msg=n)


def test_checkpointing_recomputes_in_backward():
    """It is really on: with with_cp the stage blocks run again during the
    backward pass (once per block), without it they do not. (A pre-hook:
    the recomputation stops once it has what the backward needs.)"""
    torch.manual_seed(0)
    net = MODELS.build(dict(type='ResNet', depth=18, out_indices=(0, )))
    calls = []
    net.layers[0][0].register_forward_pre_hook(
        lambda *a: calls.append(1))
    x = torch.randn(1, 3, 16, 16)
    net.train()
    net(x)[0].sum().backward()
    assert len(calls) == 1
    calls.clear()
    net.with_cp = True
    net(x)[0].sum().backward()
    assert len(calls) == 2


def test_channels_last_batch_same_values():
    from mtlbox.structures import MTLDataSample
    prep = MODELS.build(dict(type='MTLDataPreprocessor', channels_last=True))
    plain = MODELS.build(dict(type='MTLDataPreprocessor'))
    img = torch.randint(0, 255, (3, 30, 40), dtype=torch.uint8)
    sample = MTLDataSample(metainfo=dict(img_shape=(30, 40)))
    a = prep(dict(inputs=[img], data_samples=[sample]))['inputs']
    b = plain(dict(inputs=[img], data_samples=[sample]))['inputs']
    assert a.is_contiguous(memory_format=torch.channels_last)
    assert not b.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(a, b)
    torch.manual_seed(0)
    net = MODELS.build(dict(type='ResNet', depth=18, out_indices=(1, )))
    net.eval()
    with torch.no_grad():
        torch.testing.assert_close(net(a)[0], net(b)[0], rtol=1e-4,
                                   atol=1e-5)
