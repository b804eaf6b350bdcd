"""The three paths of the gradient step (per tensor, Gramian engine, matrix)
take the same update, and the Gram-matrix contract of plugin balancers."""
import copy

import pytest
import torch

from mtlbox.balancers import Aggregation, GramianBalancer
from mtlbox.balancers import task_grads as tg

TASKS = ['seg', 'depth', 'normal']


class _InverseNorm(GramianBalancer):
    """A plugin written against the Gram contract only: w_t = 1/||g_t||."""

    def aggregate_gram(self, gram, losses, tasks):
        return Aggregation(weights=gram.diagonal().clamp_min(1e-12).rsqrt())


class _Direction(GramianBalancer):

    def aggregate_gram(self, gram, losses, tasks):
        return Aggregation(direction=gram[0])


def _as_matrix_balancer(model):
    """Hide the Gram contract of ``model.balancer``: the step then takes the
    G [T, P] matrix path, the reference of the other two."""
    cls = type(model.balancer)
    model.balancer.__class__ = type(cls.__name__, (cls, ),
                                    {'gramian': False, 'per_tensor': False})
    return model


def _steps(model, batches, optim, **kwargs):
    """Train ``model`` on ``batches`` (same RNG stream for every model);
    returns the paths taken."""
    torch.manual_seed(0)
    ow = optim(model, **kwargs)
    paths = []
    for batch in batches:
        model.train_step(copy.deepcopy(batch), ow)
        paths.append(model.balanced_step.last_path)
    return paths


def _assert_same_params(a, b):
    for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
        torch.testing.assert_close(pb, pa, atol=1e-7, rtol=1e-4, msg=name)


CASES = [dict(type='PCGrad'), dict(type='MGDA'), dict(type='CAGrad'),
         dict(type='IMTL-G'), dict(type='Nash-MTL'), dict(type='UPGrad'),
         dict(type='GradNorm', alpha=1.5),
         dict(type='OL-AUX', main_task='seg')]


#: balancers with state as wide as G (``aggregate_tensors``)
STATE_CASES = [dict(type='DB-MTL'), dict(type='MoCo', beta=0.6, rho=0.1)]


@pytest.mark.parametrize('cfg', CASES + STATE_CASES, ids=lambda c: c['type'])
@pytest.mark.parametrize('engine', ['sequential', 'batched'])
def test_per_tensor_path_takes_the_matrix_update(tiny_model, batches, optim,
                                                 cfg, engine):
    """Same parameters (trunk and heads, balancer state included) after two
    steps with accumulation and clipping, whether the step keeps G per
    tensor or forms the [T, P] matrix."""
    ref = tiny_model(cfg)
    ref.balanced_step.engine = tg.GradEngine(engine)
    model = copy.deepcopy(ref)
    _as_matrix_balancer(ref)
    data = batches(2)
    kwargs = dict(accumulative_counts=2, clip_grad=dict(max_norm=0.5))
    assert _steps(ref, data, optim, **kwargs) == ['matrix'] * 2
    assert _steps(model, data, optim, **kwargs) == ['tensors'] * 2
    _assert_same_params(ref, model)
    torch.testing.assert_close(model.balanced_step.last_direction,
                               ref.balanced_step.last_direction,
                               atol=1e-7, rtol=1e-4)


@pytest.mark.parametrize('cfg', CASES[:4] + CASES[6:],
                         ids=lambda c: c['type'])
def test_gramian_engine_takes_the_matrix_update(tiny_model, batches, optim,
                                                cfg):
    ref = tiny_model(cfg)
    model = copy.deepcopy(ref)
    model.grad_engine = 'gramian'  # before the step is first built
    _as_matrix_balancer(ref)
    data = batches(2)
    assert _steps(ref, data, optim) == ['matrix'] * 2
    assert _steps(model, data, optim) == ['gramian'] * 2
    _assert_same_params(ref, model)


def test_a_gram_only_plugin_on_every_path(tiny_model, batches, optim):
    """w_t = 1/||g_t|| worked out from autograd by hand: the update of every
    path is -lr * sum_t g_t / ||g_t|| on the trunk, -lr * g_t on head t."""
    ref = tiny_model(dict(type='EW'))
    ref.eval()  # one BN state for the manual forward and the steps
    batch = batches(1)[0]
    data = ref.data_preprocessor(copy.deepcopy(batch), True)
    losses, _, _ = ref._loss_and_features(data['inputs'],
                                          data['data_samples'])
    losses = ref.task_losses(losses)
    shared = ref.shared_parameters()
    expected = [torch.zeros_like(p) for p in shared]
    for t in TASKS:
        g = torch.autograd.grad(losses[t], shared, retain_graph=True,
                                allow_unused=True)
        g = [torch.zeros_like(p) if x is None else x
             for p, x in zip(shared, g)]
        norm = torch.sqrt(sum((x * x).sum() for x in g))
        for e, x in zip(expected, g):
            e.add_(x / norm)
    lr = 0.1
    for engine in ('sequential', 'batched', 'gramian'):
        model = copy.deepcopy(ref)
        model.balancer = _InverseNorm(TASKS)
        model.grad_engine = engine
        before = [p.detach().clone() for p in model.shared_parameters()]
        model.train_step(copy.deepcopy(batch), optim(model, lr=lr))
        assert model.balanced_step.last_path == (
            'gramian' if engine == 'gramian' else 'tensors')
        for p0, p, e in zip(before, model.shared_parameters(), expected):
            torch.testing.assert_close(p - p0, -lr * e, atol=1e-7,
                                       rtol=1e-4)
        # heads: their own task's gradient, unweighted
        head = model.heads['depth']
        ref_head = copy.deepcopy(ref.heads['depth'])
        g = torch.autograd.grad(losses['depth'], list(ref.heads['depth']
                                                      .parameters()),
                                retain_graph=True, allow_unused=True)
        for p, p0, x in zip(head.parameters(), ref_head.parameters(), g):
            if x is not None:
                torch.testing.assert_close(p - p0, -lr * x, atol=1e-7,
                                           rtol=1e-4)


def test_task_gramian_and_per_tensor_gram_match_G_Gt(tiny_model, batches):
    """M from the memory-light engine and from per-tensor gradients equal
    G G^T of the matrix, with the loss scale divided out; the engine leaves
    no gradient on the shared parameters and keeps each head's own row."""
    model = tiny_model(dict(type='EW'))
    model.eval()
    batch = batches(1)[0]

    def losses():
        data = model.data_preprocessor(copy.deepcopy(batch), True)
        out, _, _ = model._loss_and_features(data['inputs'],
                                             data['data_samples'])
        return model.task_losses(out)

    shared = model.shared_parameters()
    specific = {t: model.task_parameters(t) for t in TASKS}
    G, spec = tg.task_gradient_matrix(losses(), shared, specific)
    scale = 64.0
    M, spec_m = tg.task_gramian(losses(), shared, specific, loss_scale=scale)
    torch.testing.assert_close(M, G @ G.T, atol=1e-6, rtol=1e-5)
    assert all(p.grad is None for p in shared)
    for t in TASKS:
        for (p, g), (p2, g2) in zip(spec[t], spec_m[t]):
            assert p is p2
            if g is not None:
                torch.testing.assert_close(g2, g * scale, atol=1e-5,
                                           rtol=1e-5)
    for mode in ('sequential', 'batched'):
        grads = tg.task_gradients(losses(), shared, specific,
                                  loss_scale=scale, mode=mode)
        torch.testing.assert_close(grads.gram(), G @ G.T, atol=1e-6,
                                   rtol=1e-5)
        torch.testing.assert_close(grads.matrix(), G, atol=1e-7, rtol=1e-5)
        # combine_into: p.grad = scale * (w @ G) without forming G
        w = torch.tensor([0.5, -1.0, 2.0])
        written = grads.combine_into(w, 0.25)
        flat = torch.cat([d.reshape(-1) for d in written])
        torch.testing.assert_close(flat, (w @ G) * 0.25 * scale, atol=1e-5,
                                   rtol=1e-5)
        for p in shared:
            p.grad = None


def test_gramian_engine_needs_a_gram_balancer():
    from mtlbox.registry import MODELS
    cfg = dict(type='MultiTaskModel', backbone=dict(type='_TinyBackbone'),
               heads=dict(depth=dict(type='DepthHead', in_channels=[8],
                                     channels=8)),
               balancer=dict(type='DB-MTL'), grad_engine='gramian')
    with pytest.raises(ValueError, match="grad_engine='gramian'"):
        MODELS.build(cfg)


def test_a_gram_balancer_returning_a_direction_is_refused(tiny_model,
                                                          batches, optim):
    model = tiny_model(dict(type='EW'))
    model.balancer = _Direction(TASKS)
    with pytest.raises(TypeError, match='_Direction.aggregate_gram.*'
                                        'with a direction'):
        model.train_step(batches(1)[0], optim(model))


def test_gram_and_in_place_combination_with_aliased_gradients():
    """autograd hands one buffer to both inputs of an addition and an
    expanded view for a sum: the chunked Gram and the in-place combination
    must neither double-scale a shared buffer nor write into a view, and a
    task that does not reach a tensor leaves its row of M alone."""
    torch.manual_seed(0)
    n = tg._GRAM_CHUNK + 7  # two blocks, the second partial
    a, b = torch.randn(n, requires_grad=True), torch.randn(n,
                                                           requires_grad=True)
    c = torch.randn(3, requires_grad=True)
    x = torch.randn(n)
    losses = [((a + b) * x).sum() + c.sum(),  # grad a is grad b; c expanded
              (a * a).sum() + (c ** 2).sum(),
              (b ** 3).sum()]  # reaches neither a nor c
    rows = [list(torch.autograd.grad(loss, [a, b, c], allow_unused=True))
            for loss in losses]
    assert rows[0][0].data_ptr() == rows[0][1].data_ptr()
    assert rows[2][0] is None and rows[2][2] is None
    dense = [[torch.zeros(p.numel()) if g is None else g.reshape(-1).clone()
              for g, p in zip(row, (a, b, c))] for row in rows]
    G = torch.stack([torch.cat(r) for r in dense]).double()
    grads = tg.TaskGradients([a, b, c], {t: [] for t in range(3)},
                             rows=rows)
    torch.testing.assert_close(grads.gram().double(), G @ G.T, rtol=1e-5,
                               atol=1e-3)
    w = torch.tensor([0.5, -2.0, 3.0])
    expected = (w.double() @ G).split([n, n, 3])
    for p in (a, b, c):
        p.grad = None
    written = grads.combine_into(w, scale=2.0)
    for p, d, e in zip((a, b, c), written, expected):
        torch.testing.assert_close(p.grad.double(), 2.0 * e, rtol=1e-5,
                                   atol=1e-5)
        assert p.grad is d


def _split_rows(G, sizes, drop=()):
    """Per-task gradient rows of G [T, P] cut into tensors of ``sizes``
    (``drop``: (task, tensor) pairs autograd returns as None: zero there)."""
    rows = []
    for t, row in enumerate(G):
        parts = list(row.clone().split(sizes))
        for tt, k in drop:
            if tt == t:
                parts[k] = None
        rows.append(parts)
    return rows


@pytest.mark.parametrize('name,cfg', [
    ('DB-MTL', dict(beta=0.8, beta_sigma=0.5)),
    ('MoCo', dict(beta=0.6, gamma=0.3, rho=0.1))])
@pytest.mark.parametrize('layout', ['rows', 'stacked'])
def test_state_balancers_per_tensor_match_their_matrix_aggregate(
        name, cfg, layout):
    """aggregate_tensors on per-tensor gradients (AMP-scaled by 8, a task
    absent at the second step and first seen at the third, a tensor one
    task does not reach) gives aggregate's direction, weights and state at
    every step, and the step's task weights."""
    from mtlbox.registry import BALANCERS
    tasks = ['a', 'b', 'c']
    sizes = [tg._GRAM_CHUNK + 5, 7, 3]
    params = [torch.zeros(n, dtype=torch.float64) for n in sizes]
    ref = BALANCERS.build(dict(type=name, tasks=tasks, **cfg)).double()
    bal = copy.deepcopy(ref)
    gen = torch.Generator().manual_seed(0)
    scale = 8.0
    for present in (['a', 'b'], ['a', 'c'], tasks, tasks):
        T = len(present)
        G = torch.randn(T, sum(sizes), generator=gen, dtype=torch.float64)
        drop = [(T - 1, 1)]
        G[T - 1, sizes[0]:sizes[0] + sizes[1]] = 0  # that task's None
        losses = torch.rand(T, generator=gen, dtype=torch.float64) + 0.5
        if layout == 'rows':
            grads = tg.TaskGradients(params, {t: [] for t in present},
                                     loss_scale=scale,
                                     rows=_split_rows(G * scale, sizes, drop))
        else:
            grads = tg.TaskGradients(
                params, {t: [] for t in present}, loss_scale=scale,
                stacked=[b.reshape(T, -1) for b in (G * scale).split(sizes, 1)])
        want = ref.aggregate(G.clone(), losses, present)
        got = bal.aggregate_tensors(grads, losses, present)
        flat = torch.cat([d.reshape(-1) for d in got.direction])
        torch.testing.assert_close(flat, want.combined(G), rtol=1e-12,
                                   atol=1e-12)
        torch.testing.assert_close(got.weights, want.weights, rtol=1e-12,
                                   atol=1e-12)
        for key, value in ref.state_dict().items():
            torch.testing.assert_close(bal.state_dict()[key], value,
                                       rtol=1e-12, atol=1e-12, msg=key)


def test_a_state_balancer_keeps_its_state_on_a_non_finite_gradient(
        tiny_model, batches, optim):
    """A NaN in the per-task gradients skips the step (logged by the model)
    and leaves DB-MTL's EMA and the parameters exactly as they were; the
    next finite step goes on from that state."""
    model = tiny_model(dict(type='DB-MTL'))
    data = batches(2)
    ow = optim(model)
    model.train_step(copy.deepcopy(data[0]), ow)
    assert model.balanced_step.last_path == 'tensors'
    state = copy.deepcopy(model.balancer.state_dict())
    params = [p.detach().clone() for p in model.parameters()]
    hook = model.shared_parameters()[0].register_hook(
        lambda g: g * float('nan'))
    model.train_step(copy.deepcopy(data[1]), ow)
    hook.remove()
    for key, value in state.items():
        assert torch.equal(model.balancer.state_dict()[key], value), key
    for p, q in zip(model.parameters(), params):
        assert torch.equal(p, q)
    model.train_step(copy.deepcopy(data[1]), ow)
    assert int(model.balancer.step) == int(state['step']) + 1
    assert bool(torch.isfinite(model.balancer.ema).all())


def test_update_state_refuses_one_buffer_for_old_and_new():
    p = torch.zeros(4)
    grads = tg.TaskGradients([p], {'a': []}, rows=[[torch.ones(4)]])
    state = torch.zeros(1, 4)
    with pytest.raises(ValueError, match='two buffers'):
        grads.update_state(state, state, [0], [0.5], [1.0])
