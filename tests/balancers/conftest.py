"""Shared fixtures of the balancer tests: a tiny multi-task model, SynthScenes
batches, a checkpoint round-trip checker, and ``weigh`` / ``aggregate``
calls that record the task weights as the step owner does."""
import copy

import pytest
import torch
from mmengine.optim import OptimWrapper
from torch import nn

import mtlbox
from mtlbox.engine.balanced_step import call_aggregate, call_weigh
from mtlbox.registry import BALANCERS, MODELS

mtlbox.register_all_modules()


def weigh(balancer, losses):
    """``balancer.weigh(losses).total`` with the weights recorded in
    ``balancer.task_weights``, as the loss step does."""
    return call_weigh(balancer, losses)


def aggregation(balancer, grads, losses, tasks=None, numels=None):
    """``balancer.aggregate(grads, losses, tasks)`` (``tasks``: the names of
    the rows, default all of the balancer's) with the weights recorded in
    ``balancer.task_weights``, as the gradient step does."""
    tasks = list(balancer.tasks) if tasks is None else list(tasks)
    return call_aggregate(balancer, grads, losses, tasks, numels)


def aggregate(balancer, grads, losses, tasks=None, numels=None):
    """The combined gradient [P] of :func:`aggregation`."""
    return aggregation(balancer, grads, losses, tasks, numels).combined(grads)


@MODELS.register_module(force=True)
class _TinyBackbone(nn.Module):
    """Two convs; returns one map (stride 4), so tests stay fast."""

    def __init__(self, channels=8):
        super().__init__()
        self.conv1 = nn.Conv2d(3, channels, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x):
        return [torch.relu(self.conv2(torch.relu(self.conv1(x))))]


def assert_same_backbone_update(ref, model, batch, optim):
    """One ``train_step`` of ``ref`` and of ``model`` (equal states) on
    ``batch`` moves every backbone parameter by the same amount."""
    before = [p.detach().clone() for p in ref.backbone.parameters()]
    ref.train_step(copy.deepcopy(batch), optim(ref))
    model.train_step(copy.deepcopy(batch), optim(model))
    for p0, a, b in zip(before, ref.backbone.parameters(),
                        model.backbone.parameters()):
        torch.testing.assert_close(b - p0, a - p0, atol=1e-7, rtol=1e-4)


def build_tiny_model(balancer, tasks=('seg', 'depth', 'normal'),
                     backbone='_TinyBackbone'):
    heads = dict(
        seg=dict(type='SegHead', in_channels=[8], num_classes=6, channels=8),
        depth=dict(type='DepthHead', in_channels=[8], channels=8),
        normal=dict(type='NormalHead', in_channels=[8], channels=8))
    cfg = dict(
        type='MultiTaskModel',
        data_preprocessor=dict(
            type='MTLDataPreprocessor', mean=(128., 128., 128.),
            std=(64., 64., 64.), bgr_to_rgb=True, pad_size_divisor=4),
        backbone=dict(type=backbone),
        heads={t: heads[t] for t in tasks},
        balancer=balancer)
    return MODELS.build(cfg)


def make_batches(num=4, batch_size=2, seed=0,
                 tasks=('seg', 'depth', 'normal'), **kwargs):
    from mmengine.dataset import pseudo_collate

    from mtlbox.datasets import SynthScenes
    ds = SynthScenes(num_samples=num * batch_size, img_size=(32, 32),
                     seed=seed, tasks=tasks,
                     pipeline=[dict(type='PackMTLInputs')], **kwargs)
    return [pseudo_collate([ds[i * batch_size + j] for j in range(batch_size)])
            for i in range(num)]


@pytest.fixture
def tiny_model():
    return build_tiny_model


@pytest.fixture
def batches():
    return make_batches


@pytest.fixture
def optim():

    def make(model, lr=0.01, **kwargs):
        return OptimWrapper(torch.optim.SGD(model.parameters(), lr=lr),
                            **kwargs)

    return make


def _clone(x):
    if torch.is_tensor(x):
        return x.detach().clone()
    return x


@pytest.fixture
def roundtrip():
    """``roundtrip(cfg, step, warmup=3, after=3)``: run ``step(balancer, k)``
    ``warmup`` times, copy the state into a fresh balancer through
    ``state_dict``, then check both give identical outputs for ``after``
    more steps."""

    def check(cfg, step, warmup=3, after=3):
        first = BALANCERS.build(copy.deepcopy(cfg))
        for k in range(warmup):
            step(first, k)
        state = {k: v.clone() for k, v in first.state_dict().items()}
        second = BALANCERS.build(copy.deepcopy(cfg))
        second.load_state_dict(state)
        for k in range(warmup, warmup + after):
            a, b = _clone(step(first, k)), _clone(step(second, k))
            assert torch.allclose(a, b, rtol=0, atol=0), (k, a, b)
        return first, second

    return check


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)
    yield
