import math

import pytest
import torch

from mtlbox.registry import BALANCERS
from tests.balancers.conftest import weigh

T = ['a', 'b']


def test_scaled_losses_and_scale_gradient(roundtrip):
    bal = BALANCERS.build(dict(type='IMTL-L', tasks=T))
    with torch.no_grad():
        bal.scales[0] = math.log(2.0)
    total = weigh(bal, {'a': torch.tensor(3.0), 'b': torch.tensor(0.5)})
    # e^{log 2} * 3 - log 2 + 1 * 0.5 - 0
    assert total.item() == pytest.approx(6 - math.log(2) + 0.5)
    total.backward()
    # d/ds (e^s L - s) = e^s L - 1
    assert bal.scales.grad.tolist() == pytest.approx([5.0, -0.5])
    # absent task: no NaN, no gradient for its scale
    bal.scales.grad = None
    weigh(bal, {'b': torch.tensor(2.0)}).backward()
    assert bal.scales.grad.tolist() == pytest.approx([0.0, 1.0])
    roundtrip(dict(type='IMTLL', tasks=T),
              lambda b, k: weigh(b, {'a': torch.tensor(1.0 + k)}).detach())
