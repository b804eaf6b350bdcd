import math

import pytest
import torch

from mtlbox.registry import BALANCERS
from tests.balancers.conftest import weigh

T = ['a', 'b']


def run_epoch(bal, la, lb):
    for _ in range(2):
        losses = {'a': torch.tensor(la), 'b': torch.tensor(lb)}
        weigh(bal, losses)
        bal.after_train_iter(losses)
    bal.after_train_epoch(0)


def test_equal_then_ratio_softmax():
    bal = BALANCERS.build(dict(type='DWA', tasks=T))
    run_epoch(bal, 1.0, 1.0)
    assert bal.task_weights == {'a': 1.0, 'b': 1.0}  # epoch 2: still equal
    run_epoch(bal, 0.5, 1.0)
    weigh(bal, {'a': torch.tensor(1.0), 'b': torch.tensor(1.0)})
    # r = (0.5, 1.0); w = 2 softmax(r / 2)
    ea, eb = math.exp(0.25), math.exp(0.5)
    assert bal.task_weights['a'] == pytest.approx(2 * ea / (ea + eb))
    assert bal.task_weights['b'] == pytest.approx(2 * eb / (ea + eb))


def test_absent_task_keeps_history_and_roundtrip(roundtrip):
    bal = BALANCERS.build(dict(type='DWA', tasks=T))
    run_epoch(bal, 1.0, 2.0)
    run_epoch(bal, 0.5, 2.0)
    # an epoch in which only 'a' appears
    bal.after_train_iter({'a': torch.tensor(0.25)})
    bal.after_train_epoch(2)
    assert bal.history[:, 1].tolist() == [2.0, 2.0]
    weigh(bal, {'b': torch.tensor(1.0)})
    assert bal.task_weights['b'] == pytest.approx(1.0)  # T=1: w = softmax = 1

    def step(b, k):
        losses = {'a': torch.tensor(1.0 / (k + 1)), 'b': torch.tensor(1.0)}
        out = weigh(b, losses).detach()
        b.after_train_iter(losses)
        b.after_train_epoch(k)
        return out

    roundtrip(dict(type='DWA', tasks=T), step, warmup=3, after=3)
