import pytest
import torch

from mtlbox.registry import BALANCERS
from tests.balancers.conftest import weigh

T = ['a', 'b', 'c']


def test_geometric_mean_and_gradient():
    bal = BALANCERS.build(dict(type='GLS', tasks=T))
    la = torch.tensor(1.0, requires_grad=True)
    lb = torch.tensor(4.0, requires_grad=True)
    lc = torch.tensor(2.0, requires_grad=True)
    total = weigh(bal, {'a': la, 'b': lb, 'c': lc})
    assert total.item() == pytest.approx(2.0)  # (1*4*2)^(1/3)
    total.backward()
    # d/dL_t (prod L)^{1/T} = G / (T L_t)
    assert la.grad.item() == pytest.approx(2 / 3)
    assert lb.grad.item() == pytest.approx(2 / 12)


def test_absent_task():
    bal = BALANCERS.build(dict(type='GLS', tasks=T))
    assert weigh(bal, {'a': torch.tensor(1.0),
                      'c': torch.tensor(9.0)}).item() == pytest.approx(3.0)
