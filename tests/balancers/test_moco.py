import pytest
import torch

from mtlbox.registry import BALANCERS
from tests.balancers.conftest import aggregate


def test_first_steps_by_hand(roundtrip):
    bal = BALANCERS.build(dict(type='MoCo', tasks=['a', 'b']))
    G = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    # step 1: Y = G; lambda = Pi((.5,.5) - 0.1 (0.5, 2)) = Pi(.45, .3)
    # = (.575, .425); d = (.575, .85)
    d = aggregate(bal, G, torch.ones(2))
    assert d.tolist() == pytest.approx([0.575, 0.85])
    # step 2 (k=2): beta = .5/sqrt2; Y = Y - beta (Y - G2) with G2 = 0
    G2 = torch.zeros(2, 2)
    d = aggregate(bal, G2, torch.ones(2))
    b = 0.5 / 2**0.5
    g = 0.1 / 2**0.5
    Y = G * (1 - b)
    lam = torch.tensor([0.575, 0.425])
    v = lam - g * (Y @ Y.T) @ lam
    v = v + (1 - v.sum()) / 2  # both stay positive
    assert d.tolist() == pytest.approx((v @ Y).tolist(), rel=1e-5)


def test_absent_and_roundtrip(roundtrip):
    bal = BALANCERS.build(dict(type='MoCo', tasks=['a', 'b', 'c']))
    aggregate(bal, torch.tensor([[1.0, 0.0], [0.0, 2.0]]), torch.ones(2),
              tasks=['a', 'b'])
    assert bal.weights.sum().item() == pytest.approx(1.0)
    assert bal.weights[2].item() == pytest.approx(1 / 3)
    assert bal.tracked[2].abs().sum() == 0
    G = torch.randn(3, 4)
    roundtrip(dict(type='MoCo', tasks=['a', 'b', 'c']),
              lambda b, k: aggregate(b, G * (k + 1), torch.ones(3)))
