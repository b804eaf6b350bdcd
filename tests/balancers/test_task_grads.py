"""The per-task gradient engine: sequential vs batched VJP, auto choice,
and equivalence of a plain-sum gradient balancer with loss-level EW."""
import copy

import pytest
import torch

from mtlbox.balancers import Aggregation, BaseBalancer
from mtlbox.balancers import task_grads as tg


class _Sum(BaseBalancer):
    needs = 'grads'

    def aggregate(self, grads, losses, tasks):
        return Aggregation(direction=grads.sum(0))


def _losses(model, batch):
    data = model.data_preprocessor(batch, True)
    losses, _, _ = model._loss_and_features(data['inputs'],
                                            data['data_samples'])
    return model.task_losses(losses)


def test_sequential_batched_and_manual_agree(tiny_model, batches):
    model = tiny_model(dict(type='EW'))
    model.eval()  # same BN statistics for every forward
    batch = batches(1)[0]
    shared = model.shared_parameters()
    specific = {t: model.task_parameters(t) for t in model.tasks}
    results = {}
    for mode in ('sequential', 'batched'):
        G, spec = tg.task_gradient_matrix(_losses(model, batch), shared,
                                          specific, mode=mode)
        results[mode] = (G, spec)
    per_task = _losses(model, batch)
    manual = torch.stack([
        torch.cat([g.reshape(-1) for g in torch.autograd.grad(
            per_task[t], shared, retain_graph=True)]) for t in per_task])
    for mode, (G, spec) in results.items():
        assert G.shape == (3, sum(p.numel() for p in shared))
        assert torch.allclose(G, manual, atol=1e-6), mode
    for t in model.tasks:
        for (p1, g1), (p2, g2) in zip(results['sequential'][1][t],
                                      results['batched'][1][t]):
            assert p1 is p2 and torch.allclose(g1, g2, atol=1e-6)


def test_auto_measures_once_and_falls_back(tiny_model, batches,
                                           monkeypatch):
    model = tiny_model(dict(type='EW'))
    shared = model.shared_parameters()
    specific = {t: model.task_parameters(t) for t in model.tasks}
    engine = tg.GradEngine('auto')
    assert engine.choice is None
    batch = batches(1)[0]
    G, _ = tg.task_gradient_matrix(_losses(model, batch), shared, specific,
                                   engine=engine)
    assert engine.choice is None  # measured twice
    G, _ = tg.task_gradient_matrix(_losses(model, batch), shared, specific,
                                   engine=engine)
    assert engine.choice in ('sequential', 'batched')
    assert {'sequential', 'batched'} <= set(engine.timings)
    # the choice is this engine's: another model's engine is unmeasured
    assert tg.GradEngine('auto').choice is None

    def broken(*args, **kwargs):
        raise RuntimeError('vmap: this op has no batching rule')

    monkeypatch.setattr(tg, '_batched', broken)
    engine.remeasure()
    G2, _ = tg.task_gradient_matrix(_losses(model, batch), shared, specific,
                                    engine=engine)
    assert engine.choice == 'sequential'  # decided at once, logged
    assert 'no batching rule' in engine.batched_error
    assert torch.isfinite(G2).all()
    with pytest.raises(ValueError, match='mode'):
        tg.task_gradient_matrix(_losses(model, batch), shared, specific,
                                mode='fast')


def test_engine_state_lives_on_the_model(tiny_model, batches, optim):
    a, b = tiny_model(dict(type='PCGrad')), tiny_model(dict(type='PCGrad'))
    ow = optim(a)
    for batch in batches(2):
        a.train_step(batch, ow)
    assert a.balanced_step.engine.choice in ('sequential', 'batched')
    assert b.balanced_step.engine.choice is None


@pytest.mark.parametrize('accumulate', [1, 2])
def test_sum_balancer_matches_ew(tiny_model, batches, optim, accumulate):
    """A gradient balancer returning sum_t g_t must update every parameter
    exactly like the loss-level EW path (accumulation and clipping too)."""
    ew = tiny_model(dict(type='EW'))
    summed = copy.deepcopy(ew)
    summed.balancer = _Sum(ew.tasks)
    kwargs = dict(accumulative_counts=accumulate,
                  clip_grad=dict(max_norm=1.0))
    ow_ew, ow_sum = optim(ew, **kwargs), optim(summed, **kwargs)
    for batch in batches(2):
        ew.train_step(batch, ow_ew)
        summed.train_step(batch, ow_sum)
    for (name, a), b in zip(ew.named_parameters(), summed.parameters()):
        if name.startswith('balancer'):
            continue
        assert torch.allclose(a, b, atol=1e-6), name
