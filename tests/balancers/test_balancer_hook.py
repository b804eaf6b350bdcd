from types import SimpleNamespace

import pytest
import torch

from mtlbox.engine.hooks.balancer_hook import BalancerHook
from tests.balancers.conftest import weigh

KEYS = dict(seg='s', depth='d', normal='n')


def _runner(model, resume, epoch, calls):
    loop = SimpleNamespace(run=lambda: calls.append(epoch))
    return SimpleNamespace(
        model=model, cfg=dict(resume=resume), epoch=epoch, val_loop=loop,
        train_loop=SimpleNamespace(val_begin=1, val_interval=2,
                                   max_iters=100),
        logger=SimpleNamespace(info=lambda msg: None))


def _start(hook, runner):
    """The replay runs once every hook's before_train has run."""
    hook.before_train(runner)
    hook.before_train_epoch(runner)


def test_resume_replays_missed_validation(tiny_model):
    amtl = tiny_model(dict(type='Compose', loss_weighting=dict(
        type='DTP', metric_keys=KEYS), grad_method=dict(type='PCGrad')))
    calls = []
    _start(BalancerHook(), _runner(amtl, True, 4, calls))
    assert calls == [4]  # epoch 4 validated after its checkpoint
    _start(BalancerHook(), _runner(amtl, True, 3, calls))
    assert calls == [4]  # no validation after epoch 3 (interval 2)
    _start(BalancerHook(), _runner(amtl, False, 4, calls))
    _start(BalancerHook(revalidate_on_resume=False),
           _runner(amtl, True, 4, calls))
    ew = tiny_model(dict(type='EW'))
    _start(BalancerHook(), _runner(ew, True, 4, calls))
    assert calls == [4]


def test_after_val_and_epoch_reach_balancer(tiny_model):
    model = tiny_model(dict(type='DTP', metric_keys=KEYS))
    runner = SimpleNamespace(model=model, epoch=0,
                             logger=SimpleNamespace(info=lambda msg: None))
    BalancerHook().after_val_epoch(runner, dict(s=0.5, d=0.25, n=0.1))
    assert model.balancer.kpi.kappa.tolist() == [0.5, 0.25, 0.1]


def test_auto_total_iters_is_the_runs_length(tiny_model):
    """GeMTL total_iters='auto' (here inside Compose) becomes the train
    loop's max_iters before training; p then moves by 1/100 per step."""
    model = tiny_model(dict(type='Compose', loss_weighting=dict(
        type='GeMTL', p_start=-0.5, p_end=0.5, total_iters='auto'),
        grad_method=dict(type='PCGrad')))
    gemtl = model.balancer.loss_weighting
    with pytest.raises(RuntimeError, match="total_iters='auto'"):
        gemtl.p
    BalancerHook().before_train(_runner(model, False, 0, []))
    assert gemtl.total_iters == 100
    losses = dict(seg=torch.tensor(1.0), depth=torch.tensor(2.0),
                  normal=torch.tensor(3.0))
    for _ in range(30):
        weigh(gemtl, losses)
    assert gemtl.p == pytest.approx(-0.5 + 30 / 100)
