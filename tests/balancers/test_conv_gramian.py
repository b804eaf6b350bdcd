"""The Gramian engine's convolution share taken from inputs and output
gradients (``ConvGramian``) equals the Gram matrix of the gradients."""
import copy

import pytest
import torch
from torch import nn

from mtlbox.balancers import conv_gramian as cg
from mtlbox.balancers import task_grads as tg
from mtlbox.models.backbones.base_backbone import checkpoint_call
from mtlbox.registry import MODELS


@MODELS.register_module(force=True)
class _SmallMapBackbone(nn.Module):
    """conv1 reads the image (no gradient reaches its input), conv2 makes a
    4x4 map from 16x16 (NL = 16 B <= CK = 72: its share comes from its
    input) followed by an in-place ReLU, conv3 runs twice (its gradient
    is a sum over two calls: ordinary hooks)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=4, padding=1, bias=False)
        self.conv3 = nn.Conv2d(8, 8, 1)

    def forward(self, x):
        x = self.conv2(torch.relu(self.conv1(x))).relu_()
        return [self.conv3(torch.tanh(self.conv3(x)))]


@MODELS.register_module(force=True)
class _CheckpointedSmallMaps(nn.Module):
    """The same under activation checkpointing (its forward runs again in
    the backward pass)."""

    def __init__(self):
        super().__init__()
        self.inner = _SmallMapBackbone()

    def forward(self, x):
        return checkpoint_call(self.inner, x)


def _explicit_gram(losses, shared):
    rows = []
    for loss in losses.values():
        g = torch.autograd.grad(loss, shared, retain_graph=True,
                                allow_unused=True)
        rows.append(torch.cat([
            (torch.zeros_like(p) if x is None else x).reshape(-1)
            for p, x in zip(shared, g)]))
    G = torch.stack(rows).double()
    return G @ G.T


@pytest.mark.parametrize('stride,padding,dilation,kernel',
                         [(1, 0, 1, (3, 3)), (2, 1, 1, (3, 2)),
                          (1, 2, 2, (3, 3))])
def test_conv_weight_gram_is_the_weight_gradients_gram(stride, padding,
                                                       dilation, kernel):
    """tr(D_i K D_j^T) against <g_i, g_j> of the weight gradients that
    PyTorch's own conv2d_weight computes task by task."""
    gen = torch.Generator().manual_seed(0)
    conv = nn.Conv2d(5, 4, kernel, stride=stride, padding=padding,
                     dilation=dilation).double()
    x = torch.randn(3, 5, 9, 11, generator=gen, dtype=torch.float64)
    out_shape = conv(x).shape
    delta = torch.randn((4, ) + tuple(out_shape), generator=gen,
                        dtype=torch.float64)
    g = torch.stack([
        torch.nn.grad.conv2d_weight(x, conv.weight.shape, d, stride,
                                    padding, dilation).reshape(-1)
        for d in delta])
    M = torch.zeros(4, 4, dtype=torch.float64)
    cg.conv_weight_gram(x, conv, delta, M)
    torch.testing.assert_close(M, g @ g.T, rtol=1e-10, atol=1e-10)


def test_task_gramian_takes_the_planned_convolution_from_its_input(
        tiny_model, batches):
    model = tiny_model(dict(type='EW'), backbone='_SmallMapBackbone')
    model.eval()
    data = model.data_preprocessor(batches(1)[0], True)
    shared = model.shared_parameters()
    specific = {t: model.task_parameters(t) for t in model.tasks}
    with cg.ConvGramian(model, shared) as convs:
        losses, _, _ = model._loss_and_features(data['inputs'],
                                                data['data_samples'])
    losses = model.task_losses(losses)
    M, spec = tg.task_gramian(losses, shared, specific, convs=convs)
    assert convs.planned == [model.backbone.conv2]
    torch.testing.assert_close(M.double(), _explicit_gram(losses, shared),
                               rtol=1e-5, atol=1e-6)
    # an AMP loss scale is divided out of the convolution's share too
    M8, _ = tg.task_gramian(losses, shared, specific, loss_scale=8.0,
                            convs=convs)
    assert convs.planned == [model.backbone.conv2]
    torch.testing.assert_close(M8, M, rtol=1e-5, atol=1e-6)
    # the heads' rows are their own task's gradients
    for t, pairs in spec.items():
        for p, g in pairs:
            if g is not None:
                ref, = torch.autograd.grad(losses[t], [p], retain_graph=True)
                torch.testing.assert_close(g, ref)


def test_no_planned_convolution_for_large_maps(tiny_model, batches):
    """_TinyBackbone's conv2 makes 8x8 maps from 8 channels: NL = 128 > CK
    = 72, so its weight keeps the [T, *shape] hook."""
    model = tiny_model(dict(type='EW'))
    data = model.data_preprocessor(batches(1)[0], True)
    shared = model.shared_parameters()
    with cg.ConvGramian(model, shared) as convs:
        losses, _, _ = model._loss_and_features(data['inputs'],
                                                data['data_samples'])
    losses = model.task_losses(losses)
    M, _ = tg.task_gramian(losses, shared, {}, convs=convs)
    assert convs.planned == []
    torch.testing.assert_close(M.double(), _explicit_gram(losses, shared),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('backbone',
                         ['_SmallMapBackbone', '_CheckpointedSmallMaps'])
def test_gramian_engine_step_with_planned_convolutions(tiny_model, batches,
                                                       optim, monkeypatch,
                                                       backbone):
    """Two accumulated, clipped PCGrad steps of the Gramian engine (conv2's
    share from its input) move every parameter as the G [T, P] path does,
    with activation checkpointing too."""
    planned = []
    begin = cg.ConvGramian.begin

    def spy(self, *args):
        out = begin(self, *args)
        planned.append(list(self.planned))
        return out

    monkeypatch.setattr(cg.ConvGramian, 'begin', spy)
    ref = tiny_model(dict(type='PCGrad'), backbone=backbone)
    model = copy.deepcopy(ref)
    model.grad_engine = 'gramian'
    cls = type(ref.balancer)
    ref.balancer.__class__ = type(cls.__name__, (cls, ),
                                  {'gramian': False, 'per_tensor': False})
    kwargs = dict(accumulative_counts=2, clip_grad=dict(max_norm=0.5))
    for m in (ref, model):
        torch.manual_seed(0)
        ow = optim(m, **kwargs)
        for batch in batches(2):
            m.train_step(copy.deepcopy(batch), ow)
    assert model.balanced_step.last_path == 'gramian'
    conv2, = (m for n, m in model.backbone.named_modules()
              if n.endswith('conv2'))
    assert planned == [[conv2]] * 2
    for (name, a), b in zip(ref.named_parameters(), model.parameters()):
        torch.testing.assert_close(b, a, atol=1e-7, rtol=1e-4, msg=name)


def test_a_gradient_that_misses_a_planned_convolution_is_an_error():
    """A planned convolution whose output gradient never comes would be
    missing from M: the pass fails instead of returning a wrong M."""
    conv = nn.Conv2d(4, 4, 3, padding=1)
    other = nn.Linear(4, 1)
    x = torch.randn(2, 4, 2, 2, requires_grad=True)
    with cg.ConvGramian(conv, list(conv.parameters())) as convs:
        conv(x)
    # the losses do not depend on the convolution at all
    losses = {'a': other(x.mean((2, 3))).sum(),
              'b': other(x.mean((2, 3))).pow(2).sum()}
    with pytest.raises(RuntimeError, match='no task gradient reached'):
        tg.task_gramian(losses, list(conv.parameters()), {}, convs=convs)


def test_auto_engine_times_both_paths_then_keeps_the_faster():
    engine = tg.GradEngine('auto')
    assert engine.gram_path() == 'tensors'  # per-task engine still measures
    engine.record_path('tensors', 0.1)  # says nothing of the path: ignored
    engine.choice = 'sequential'
    times = {'tensors': [3.0, 2.5], 'gramian': [2.0, 1.5]}
    order = []
    for _ in range(4):
        path = engine.gram_path()
        order.append(path)
        engine.record_path(path, times[path].pop(0))
    assert order == ['tensors', 'gramian', 'tensors', 'gramian']
    assert engine.path_choice == 'gramian'
    assert engine.path_timings == {'tensors': 2.5, 'gramian': 1.5}
    assert engine.gram_path() == 'gramian'
    engine.remeasure()
    assert engine.path_choice is None and engine.gram_path() == 'tensors'
    for mode, path in (('sequential', 'tensors'), ('gramian', 'gramian')):
        assert tg.GradEngine(mode).gram_path() == path


def _train(model, batches, optim):
    torch.manual_seed(0)
    ow = optim(model, accumulative_counts=2)
    paths = []
    for batch in batches:
        model.train_step(copy.deepcopy(batch), ow)
        paths.append(model.balanced_step.last_path)
    return paths


@pytest.mark.parametrize('gramian_fails', [False, True])
def test_auto_engine_tries_the_gramian_engine_on_the_same_update(
        tiny_model, batches, optim, monkeypatch, gramian_fails):
    """grad_engine='auto' with a Gram balancer: two steps deciding the
    per-task engine, four alternating the paths, then the faster one; the
    parameters are those of the per-tensor path throughout. A Gramian pass
    that raises (e.g. a backward vmap cannot batch) hands its step to the
    per-tensor path and decides for it."""
    from mtlbox.engine import balanced_step as bs
    ref = tiny_model(dict(type='IMTL-G'), backbone='_SmallMapBackbone')
    model = copy.deepcopy(ref)
    ref.grad_engine = 'sequential'
    if gramian_fails:
        def fail(*args, **kwargs):
            raise RuntimeError('vmap: cannot batch this backward')
        monkeypatch.setattr(bs, 'task_gramian', fail)
    data = batches(8)
    assert _train(ref, data, optim) == ['tensors'] * 8
    paths = _train(model, data, optim)
    engine = model.balanced_step.engine
    if gramian_fails:
        assert paths == ['tensors'] * 8
        assert engine.path_choice == 'tensors' and not engine.path_timings
    else:
        assert paths[:6] == ['tensors'] * 3 + ['gramian', 'tensors',
                                                'gramian']
        assert paths[6:] == [engine.path_choice] * 2
        assert set(engine.path_timings) == {'tensors', 'gramian'}
    for (name, a), b in zip(ref.named_parameters(), model.parameters()):
        torch.testing.assert_close(b, a, atol=1e-6, rtol=1e-4, msg=name)


def test_vmap_budget_skips_the_vmapped_trials_for_good():
    """6 x T x the largest saved activation over the memory available: no
    batched measurement, no Gramian trial, logged with the figures."""
    engine = tg.GradEngine('auto')
    assert engine.check_vmap_budget(3, 2**20, 2**33)
    assert engine.check_vmap_budget(3, 2**20, None)  # unknown: no check
    assert engine.batched_error is None
    assert not engine.check_vmap_budget(40, 100 * 2**20, 10 * 2**30)
    assert engine.batched_error.startswith(
        'skipped: a vmapped backward of 40 tasks would hold about 23.4 GiB')
    engine.choice = 'sequential'
    assert engine.gram_path() == 'tensors'
    assert engine.path_choice == 'tensors' and not engine.paths_on_trial


def test_auto_engine_over_budget_runs_no_vmapped_pass(tiny_model, batches,
                                                      optim, monkeypatch):
    """With (pretend) 1 KiB available the first step's budget check fails:
    the per-task engine decides for sequential without a batched pass and
    the Gramian engine is never tried; the update is the sequential one."""
    from mtlbox.engine import balanced_step as bs

    def no_vmap(*args, **kwargs):
        raise AssertionError('a vmapped pass ran')

    ref = tiny_model(dict(type='PCGrad'), backbone='_SmallMapBackbone')
    model = copy.deepcopy(ref)
    ref.grad_engine = 'sequential'
    data = batches(6)
    _train(ref, data, optim)
    monkeypatch.setattr(bs, 'available_memory', lambda device: 1024)
    monkeypatch.setattr(tg, '_batched', no_vmap)
    monkeypatch.setattr(bs, 'task_gramian', no_vmap)
    assert _train(model, data, optim) == ['tensors'] * 6
    engine = model.balanced_step.engine
    assert engine.choice == 'sequential'
    assert engine.batched_error.startswith('skipped')
    assert engine.path_choice == 'tensors'
    for (name, a), b in zip(ref.named_parameters(), model.parameters()):
        torch.testing.assert_close(b, a, atol=1e-6, rtol=1e-4, msg=name)


def test_largest_saved_is_the_largest_tensor_saved_for_backward():
    x = torch.randn(4, 8, requires_grad=True)
    with tg.LargestSaved() as saved:
        y = (x * 2).exp()  # exp saves its [4, 8] output
        z = y.sum()
    assert saved.nbytes == 4 * 8 * 4
    z.backward()  # the saved tensors still unpack
    torch.testing.assert_close(x.grad, 2 * (2 * x).exp())


@pytest.mark.parametrize('cfg,recorded', [
    (dict(type='DB-MTL'), 2),  # the per-task engine's two measuring steps
    (dict(type='PCGrad'), 4),  # and the Gramian engine's two trials
], ids=lambda v: v['type'] if isinstance(v, dict) else str(v))
def test_saved_activations_are_recorded_only_before_vmapped_trials(
        tiny_model, batches, optim, monkeypatch, cfg, recorded):
    """The budget's saved-tensor hook runs on the forwards of steps that may
    run a vmapped pass, not on every training step after the choice."""
    from mtlbox.engine import balanced_step as bs
    entered = []

    class Counting(tg.LargestSaved):
        def __enter__(self):
            entered.append(1)
            return super().__enter__()

    monkeypatch.setattr(bs, 'LargestSaved', Counting)
    model = tiny_model(cfg, backbone='_SmallMapBackbone')
    _train(model, batches(8), optim)
    assert len(entered) == recorded
