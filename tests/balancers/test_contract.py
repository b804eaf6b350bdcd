"""The pure balancer contract: ``aggregate(G, losses, tasks) ->
Aggregation`` and ``weigh(losses) -> Weighting``; the step owner logs the
returned weights and applies ``weights @ G`` when no direction is given."""
import copy

import pytest
import torch

from mtlbox.balancers import Aggregation, BaseBalancer, Weighting
from tests.balancers.conftest import assert_same_backbone_update


class _Fixed(BaseBalancer):
    """Gradient-level: returns only weights (2, 1, 0.5 by task order)."""

    needs = 'grads'

    def aggregate(self, grads, losses, tasks):
        w = torch.tensor([{'seg': 2.0, 'depth': 1.0, 'normal': 0.5}[t]
                          for t in tasks])
        return Aggregation(weights=w)


class _FixedLoss(BaseBalancer):
    needs = 'losses'

    def weigh(self, losses):
        w = torch.tensor([{'seg': 2.0, 'depth': 1.0, 'normal': 0.5}[t]
                          for t in losses])
        return Weighting(
            total=sum(wi * losses[t] for wi, t in zip(w, losses)), weights=w)


def test_aggregation_needs_a_direction_or_weights():
    with pytest.raises(ValueError, match='direction or weights'):
        Aggregation()
    G = torch.arange(6.).view(2, 3)
    torch.testing.assert_close(
        Aggregation(weights=torch.tensor([1., -1.])).combined(G),
        torch.tensor([-3., -3., -3.]))


@pytest.mark.parametrize('cls', [_Fixed, _FixedLoss])
def test_weights_only_equals_the_fixed_weighted_sum(cls, tiny_model, batches,
                                                    optim):
    """Both contracts give the update of ``sum_t w_t L_t`` on the shared
    parameters, and the weights are logged from the returned value."""
    ref = tiny_model(dict(type='Fixed', weights=dict(seg=2.0, depth=1.0,
                                                      normal=0.5)))
    ref.eval()
    model = copy.deepcopy(ref)
    model.balancer = cls(ref.tasks)
    assert_same_backbone_update(ref, model, batches(1)[0], optim)
    assert model.balancer.task_weights == pytest.approx(
        dict(seg=2.0, depth=1.0, normal=0.5))


#: constructor arguments of the built-in balancers that need some
#: (tasks a, b, c); every other registered balancer is built from its tasks
_REQUIRED = {
    'AMTL': dict(potentials=dict(a=0.5, b=0.6, c=0.7),
                 metric_keys=dict(a='a/m', b='b/m', c='c/m')),
    'DTP': dict(metric_keys=dict(a='a/m', b='b/m', c='c/m')),
    'Fixed': dict(weights=dict(a=2.0, b=1.0, c=0.5)),
    'Gcosim': dict(main_task='a'),
    'OLAUX': dict(main_task='a'),
    'Compose': dict(loss_weighting=dict(type='UW'),
                    grad_method=dict(type='GradNorm')),
}


def _builtin_balancers():
    """(name, class) of every registered balancer class, aliases once;
    SLGrad's family has neither weigh nor aggregate (its step does the
    work)."""
    from mtlbox.registry import BALANCERS
    seen, out = set(), []
    for name, cls in sorted(BALANCERS.module_dict.items()):
        if cls in seen or cls.__module__.startswith('tests.'):
            continue
        seen.add(cls)
        if cls.__module__.startswith('mtlbox.balancers.') and \
                not cls.__module__.startswith('mtlbox.balancers.sample'):
            out.append((cls.__name__, cls))
    return out


def _attributes(balancer):
    """Every plain attribute of the balancer and its submodules (not the
    contents of buffers and parameters, its declared state)."""
    out = {}
    for prefix, module in balancer.named_modules():
        for key, value in vars(module).items():
            if key in ('_buffers', '_parameters', '_modules'):
                value = sorted(value)  # names only
            out[f'{prefix}.{key}'] = copy.deepcopy(value)
    return out


def _same(a, b):
    if torch.is_tensor(a):
        return torch.is_tensor(b) and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(
            _same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(
            _same(x, y) for x, y in zip(a, b))
    return a == b


def _changed(before, after):
    return sorted(k for k in set(before) | set(after)
                  if k not in before or k not in after
                  or not _same(before[k], after[k]))


@pytest.mark.parametrize('name,cls', _builtin_balancers(),
                         ids=lambda v: v if isinstance(v, str) else '')
def test_builtin_balancer_sets_no_attribute(name, cls):
    """weigh / aggregate of every built-in balancer return everything in
    the Weighting / Aggregation: two calls (one with an absent task) change
    no attribute of the balancer or of its parts, only buffer and parameter
    contents."""
    from mtlbox.registry import BALANCERS
    tasks = ['a', 'b', 'c']
    try:
        bal = BALANCERS.build(dict(type=cls, tasks=tasks,
                                   **_REQUIRED.get(name, {})))
    except TypeError as err:
        raise AssertionError(
            f'{name} needs constructor arguments: add them to _REQUIRED in '
            f'{__file__} ({err})') from err
    before = _attributes(bal)
    gen = torch.Generator().manual_seed(0)
    G = torch.randn(3, 5, generator=gen)
    losses = torch.rand(3, generator=gen) + 0.5
    for rows in (tasks, ['a', 'c']):
        idx = [tasks.index(t) for t in rows]
        if bal.needs not in ('grads', 'features'):
            out = bal.weigh({t: losses[i] for t, i in zip(rows, idx)})
            assert isinstance(out, Weighting), name
        else:
            out = bal.aggregate(G[idx], losses[idx], rows)
            assert isinstance(out, Aggregation), name
            assert out.combined(G[idx]).shape == (5, )
    assert _changed(before, _attributes(bal)) == [], name


@pytest.mark.parametrize('balancer', [
    dict(type='UW'),
    dict(type='GradNorm', norm_on=2),
    dict(type='Compose', loss_weighting=dict(type='UW'),
         grad_method=dict(type='MGDA-UB')),
])
def test_a_step_changes_only_the_recorded_task_weights(balancer, tiny_model,
                                                       batches, optim):
    """Through the model's step, the step owner's record ``task_weights`` is
    the only attribute of the balancer that changes."""
    model = tiny_model(balancer)
    before = _attributes(model.balancer)
    model.train_step(batches(1)[0], optim(model))
    assert set(_changed(before, _attributes(model.balancer))) <= {
        '.task_weights'}
    assert set(model.balancer.task_weights) == set(model.tasks)


class _LegacyLoss(BaseBalancer):
    needs = 'losses'

    def weigh(self, losses):
        return sum(losses.values())


class _LegacyGrads(BaseBalancer):
    needs = 'grads'

    def aggregate(self, grads, losses):
        return grads.sum(0)


class _TensorGrads(BaseBalancer):
    needs = 'grads'

    def aggregate(self, grads, losses, tasks):
        return grads.sum(0)


@pytest.mark.parametrize('cls,message', [
    (_LegacyLoss, r'_LegacyLoss\.weigh returned Tensor; .*Weighting\('),
    (_LegacyGrads, r"_LegacyGrads\.aggregate\(grads, losses\) has no 'tasks'"
     r'.*aggregate\(grads, losses, tasks\) -> Aggregation'),
    (_TensorGrads, r'_TensorGrads\.aggregate returned Tensor; .*Aggregation'),
])
def test_a_legacy_return_is_a_clear_type_error(cls, message, tiny_model,
                                               batches, optim):
    """A balancer written for the old side-channel contract (a bare tensor,
    no ``tasks`` argument) fails naming its class and the new contract."""
    model = tiny_model(dict(type='EW'))
    model.balancer = cls(model.tasks)
    with pytest.raises(TypeError, match=message):
        model.train_step(batches(1)[0], optim(model))
