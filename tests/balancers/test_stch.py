import math

import pytest
import torch

from mtlbox.registry import BALANCERS
from tests.balancers.conftest import weigh

T = ['a', 'b']


def test_smooth_max_and_weights(roundtrip):
    bal = BALANCERS.build(dict(type='STCH', tasks=T, normalize=False))
    la = torch.tensor(1.0, requires_grad=True)
    lb = torch.tensor(2.0, requires_grad=True)
    total = weigh(bal, {'a': la, 'b': lb})
    assert total.item() == pytest.approx(math.log(math.e + math.e**2))
    total.backward()
    sa = math.e / (math.e + math.e**2)
    assert la.grad.item() == pytest.approx(sa)
    assert lb.grad.item() == pytest.approx(1 - sa)
    # small mu -> max
    hard = BALANCERS.build(dict(type='STCH', tasks=T, normalize=False,
                                mu=1e-3))
    assert weigh(hard, {'a': torch.tensor(1.0),
                       'b': torch.tensor(2.0)}).item() == pytest.approx(
                           2.0, abs=1e-3)


def test_normalised_by_first_loss_and_absent(roundtrip):
    bal = BALANCERS.build(dict(type='STCH', tasks=T))
    weigh(bal, {'a': torch.tensor(2.0)})  # records L_a(0) = 2; b absent
    assert math.isnan(bal.initial_losses[1].item())
    total = weigh(bal, {'a': torch.tensor(1.0), 'b': torch.tensor(5.0)})
    # normalised: (0.5, 1.0)
    assert total.item() == pytest.approx(math.log(math.exp(0.5) + math.e))
    roundtrip(dict(type='STCH', tasks=T),
              lambda b, k: weigh(b, {'a': torch.tensor(1.0 + k),
                                    'b': torch.tensor(3.0)}).detach())
