"""Auto-Lambda: lambda moves by the hypergradient of the held-out primary
loss after a virtual SGD step; the model then trains on sum lambda_t L_t."""
import copy

import pytest
import torch

from mtlbox.balancers.weighting import finite_difference_hypergradient
from mtlbox.registry import BALANCERS

TASKS = ['seg', 'depth', 'normal']


def _model(tiny_model, batches, **kwargs):
    model = tiny_model(dict(type='AutoLambda', **kwargs))
    held_out = batches(1, seed=7)[0]
    model.balancer.set_val_batches([held_out])
    return model, held_out


def _exact_hypergradient(model, batch, held_out, primary, lr):
    """``-lr <g_t(theta), grad L_pri(theta')>``, ``theta' = theta - lr sum_t
    lambda_t g_t`` (first SGD step: no momentum buffer yet), by autograd,
    one task at a time."""
    model = copy.deepcopy(model)
    params = [p for n, p in model.named_parameters() if p.requires_grad]
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    losses = model.task_losses(model.loss(data['inputs'],
                                          data['data_samples']))
    lam = model.balancer.lambdas
    per_task = []
    for t in TASKS:
        g = torch.autograd.grad(losses[t], params, retain_graph=True,
                                allow_unused=True)
        per_task.append([torch.zeros_like(p) if x is None else x
                         for x, p in zip(g, params)])
    with torch.no_grad():
        for k, p in enumerate(params):
            p -= lr * sum(lam[i] * per_task[i][k] for i in range(3))
    val = model.data_preprocessor(copy.deepcopy(held_out), True)
    val_losses = model.task_losses(model.loss(val['inputs'],
                                              val['data_samples']))
    v = torch.autograd.grad(sum(val_losses[t] for t in primary), params,
                            allow_unused=True)
    v = [torch.zeros_like(p) if x is None else x for x, p in zip(v, params)]
    return torch.stack([
        -lr * sum((g * x).sum() for g, x in zip(per_task[i], v))
        for i in range(3)])


@pytest.mark.parametrize('primary', [None, ['seg']])
def test_hypergradient_matches_the_exact_inner_product(
        primary, tiny_model, batches, optim):
    model, held_out = _model(tiny_model, batches, init=0.5, lr=1e-3,
                             primary=primary)
    batch = batches(1)[0]
    model.eval()  # BatchNorm in eval: the same function in every forward
    exact = _exact_hypergradient(model, batch, held_out,
                                 primary or TASKS, lr=0.05)
    model.train_step(copy.deepcopy(batch), optim(model, lr=0.05))
    got = model.balanced_step.last_hypergradient
    # float32 central difference: measured up to 1.4e-2 off
    assert got.tolist() == pytest.approx(exact.tolist(), rel=3e-2)
    assert exact.abs().min() > 1e-6  # a real signal, not zeros
    # first Adam step: each lambda moves by lr against its gradient's sign
    assert model.balancer.lambdas.tolist() == pytest.approx(
        (0.5 - 1e-3 * torch.sign(exact)).tolist(), rel=1e-5)


def test_step_is_the_weighted_sum_with_the_new_lambdas(tiny_model, batches,
                                                       optim):
    """After the look-ahead the parameters and BatchNorm statistics are as
    before it: the update equals a Fixed step with the updated lambdas."""
    model, _ = _model(tiny_model, batches, init=0.3, lr=0.01)
    ref = copy.deepcopy(model)
    batch = batches(1)[0]
    model.train_step(copy.deepcopy(batch), optim(model))
    lam = model.balancer.lambdas
    assert (lam - 0.3).abs().min() > 1e-3
    ref.balancer = BALANCERS.build(dict(
        type='Fixed', tasks=TASKS,
        weights={t: float(w) for t, w in zip(TASKS, lam)}))
    ref.train_step(copy.deepcopy(batch), optim(ref))
    for (name, a), b in zip(model.state_dict().items(),
                            ref.state_dict().values()):
        if not name.startswith('balancer.'):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7,
                                       msg=name)
    assert model.balancer.task_weights == pytest.approx(
        {t: float(w) for t, w in zip(TASKS, lam)})


def test_a_skipped_step_takes_back_the_lambda_update(tiny_model, batches,
                                                     optim):
    """The look-ahead moves lambda, then the training gradient turns out
    non-finite: the step is skipped and lambda with its Adam state is as
    before; the next step moves it as a first step would."""
    model, _ = _model(tiny_model, batches, init=0.3, lr=0.01)
    ref = copy.deepcopy(model)
    batch = batches(1)[0]
    ow = optim(model)
    before = copy.deepcopy(model.balancer.state_dict())
    calls = []

    def poison(g):  # the look-ahead's gradient is the first, finite one
        calls.append(1)
        return g * float('nan') if len(calls) == 2 else g
    hook = model.shared_parameters()[0].register_hook(poison)
    model.train_step(copy.deepcopy(batch), ow)
    hook.remove()
    assert len(calls) == 2
    assert (model.balanced_step.last_hypergradient.abs() > 0).all()
    for key, value in before.items():
        assert torch.equal(model.balancer.state_dict()[key], value), key
    model.train_step(copy.deepcopy(batch), ow)
    ref.train_step(copy.deepcopy(batch), optim(ref))
    torch.testing.assert_close(model.balancer.lambdas, ref.balancer.lambdas)
    assert int(model.balancer.adam_step) == 1


def test_closed_form_finite_difference_and_state(roundtrip):
    # L_t(theta +- eps v) = c_t +- eps a_t: the central difference is a_t
    plus, minus = torch.tensor([3.0, 1.0]), torch.tensor([1.0, 2.0])
    assert finite_difference_hypergradient(plus, minus, 0.5, 0.1).tolist() \
        == pytest.approx([-0.2, 0.1])
    bal = BALANCERS.build(dict(type='AutoLambda', tasks=['a', 'b', 'c'],
                               lr=0.1))
    total = bal.weigh(dict(a=torch.tensor(2.0), c=torch.tensor(4.0)))
    assert float(total.total) == pytest.approx(0.1 * 6.0)
    bal.update(['a', 'c'], torch.tensor([1.0, -2.0]))
    assert bal.lambdas.tolist() == pytest.approx([0.0, 0.1, 0.2])
    roundtrip(dict(type='AutoLambda', tasks=['a', 'b', 'c'], lr=0.1),
              lambda b, k: (b.update(['a', 'b', 'c'],
                                     torch.tensor([1.0, -0.5, 0.2 * k])),
                            b.lambdas)[1])
    with pytest.raises(KeyError, match='primary'):
        BALANCERS.build(dict(type='AutoLambda', tasks=['a'],
                             primary=['z']))
    with pytest.raises(RuntimeError, match='held-out'):
        BALANCERS.build(dict(type='AutoLambda', tasks=['a'])).next_val_batch()


#: stateful methods of #17.2 checked under data parallelism in one pair of
#: gloo processes (the spawn is the cost): ExcessMTL's [T, P] squared sums
#: and weights (from the all-reduced G), Auto-Lambda's look-ahead (rank-
#: averaged gradients and finite-difference losses)
DDP_BALANCERS = [dict(type='ExcessMTL', step_size=0.5),
                 dict(type='AutoLambda', primary=['seg'], lr=0.01)]


def _ddp_model(balancer):
    from tests.engine.test_distributed import _batch, _model
    model = _model(balancer)
    if hasattr(model.balancer, 'set_val_batches'):  # the same everywhere
        model.balancer.set_val_batches([_batch([['seg'], ['seg']],
                                               seed=99)])
    return model


def _ddp_worker(rank, world, init_file, out_dir):
    import os

    import torch.distributed as dist
    os.environ['OMP_NUM_THREADS'] = '1'
    torch.set_num_threads(1)
    import mtlbox
    mtlbox.register_all_modules()
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world)
    from mtlbox.engine import MTLDistributedDataParallel
    from tests.engine.test_distributed import RANK_LABELS, _batch, _steps
    for i, cfg in enumerate(DDP_BALANCERS):
        model = MTLDistributedDataParallel(_ddp_model(cfg))
        batches = [_batch(RANK_LABELS[rank], seed=10 * step + rank)
                   for step in range(2)]
        state = _steps(model.module, batches, clip=dict(max_norm=1.0))
        torch.save(state, os.path.join(out_dir, f'{i}_rank{rank}.pth'))
    dist.destroy_process_group()


def test_two_gloo_processes_equal_one_process(tmp_path):
    """2 processes with partially labelled batches end in the parameters
    and balancer state of one process with the double batch."""
    from tests.engine.test_distributed import (TOLERANCE, _global_batches,
                                               _steps, run_ranks)
    run_ranks(_ddp_worker, 2, str(tmp_path / 'init'), str(tmp_path))
    for i, cfg in enumerate(DDP_BALANCERS):
        reference = _steps(_ddp_model(cfg), _global_batches(),
                           clip=dict(max_norm=1.0))
        assert any(k.startswith('balancer.') for k in reference)
        for rank in range(2):
            state = torch.load(tmp_path / f'{i}_rank{rank}.pth')
            for key, value in reference.items():
                torch.testing.assert_close(
                    state[key], value, **TOLERANCE,
                    msg=f"{cfg['type']} rank {rank}: {key}")
    lambdas = reference['balancer.lambdas']
    assert (lambdas - 0.1).abs().min() > 1e-3  # the look-ahead moved them
