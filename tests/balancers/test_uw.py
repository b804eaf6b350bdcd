import math

import pytest
import torch

from mtlbox.registry import BALANCERS
from tests.balancers.conftest import weigh

T = ['a', 'b']


def test_formula_and_gradients():
    bal = BALANCERS.build(dict(type='UW', tasks=T))
    with torch.no_grad():
        bal.log_vars[1] = math.log(2.0)
    la = torch.tensor(1.0, requires_grad=True)
    lb = torch.tensor(2.0, requires_grad=True)
    total = weigh(bal, {'a': la, 'b': lb})
    # 1/(2 e^0) + 0/2 + 2/(2*2) + log(2)/2
    assert total.item() == pytest.approx(0.5 + 0.5 + math.log(2) / 2)
    total.backward()
    assert la.grad.item() == pytest.approx(0.5)
    assert lb.grad.item() == pytest.approx(0.25)
    # d/ds (L e^{-s}/2 + s/2) = -L e^{-s}/2 + 1/2
    assert bal.log_vars.grad.tolist() == pytest.approx([0.0, 0.0])


def test_absent_task_gets_no_gradient(roundtrip):
    bal = BALANCERS.build(dict(type='UW', tasks=T))
    total = weigh(bal, {'b': torch.tensor(3.0)})
    assert torch.isfinite(total)
    total.backward()
    assert bal.log_vars.grad[0].item() == 0.0
    assert bal.log_vars.grad[1].item() == pytest.approx(-1.0)  # -3/2 + 1/2
    roundtrip(dict(type='UW', tasks=T),
              lambda b, k: weigh(b, {'a': torch.tensor(1.0 + k),
                                    'b': torch.tensor(2.0)}).detach())
