import math

import pytest
import torch

from mtlbox.balancers import power_mean
from mtlbox.registry import BALANCERS
from tests.balancers.conftest import weigh

T = ['a', 'b']
L = torch.tensor([1.0, 4.0])


def test_power_means():
    assert power_mean(L, 1.0).item() == pytest.approx(2.5)
    assert power_mean(L, -1.0).item() == pytest.approx(2 / (1 + 0.25))
    assert power_mean(L, 2.0).item() == pytest.approx(math.sqrt(8.5))
    assert power_mean(L, 0.05).item() == pytest.approx(2.0)  # geometric
    # the p -> 0 limit without the switch
    assert power_mean(L, 1e-4, geo_threshold=0).item() == pytest.approx(
        2.0, rel=1e-3)


def test_schedule_advances_and_resumes(roundtrip):
    bal = BALANCERS.build(dict(type='GeMTL', tasks=T, total_iters=4))
    losses = {'a': torch.tensor(1.0), 'b': torch.tensor(4.0)}
    ps = []
    for _ in range(6):
        ps.append(bal.p)
        weigh(bal, losses)
    assert ps == pytest.approx([-0.5, -0.25, 0.0, 0.25, 0.5, 0.5])
    # p = -0.5: ((1 + 4^-0.5) / 2)^-2 = (0.75)^-2
    bal2 = BALANCERS.build(dict(type='GeMTL', tasks=T, total_iters=4))
    assert weigh(bal2, losses).item() == pytest.approx(0.75**-2)
    roundtrip(dict(type='GeMTL', tasks=T, total_iters=5),
              lambda b, k: weigh(b, losses).detach(), warmup=2, after=4)


def test_absent_task_no_nan():
    bal = BALANCERS.build(dict(type='GeMTL', tasks=T, p_start=1.0))
    la = torch.tensor(3.0, requires_grad=True)
    total = weigh(bal, {'a': la})
    total.backward()
    assert total.item() == pytest.approx(3.0) and la.grad.item() == 1.0
