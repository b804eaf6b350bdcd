import pytest
import torch

from mtlbox.registry import BALANCERS
from tests.balancers.conftest import aggregate


def test_log_gradients_scaled_to_max_norm_with_ema(roundtrip):
    bal = BALANCERS.build(dict(type='DB-MTL', tasks=['a', 'b']))
    G = torch.tensor([[2.0, 0.0], [0.0, 3.0]])
    # step 1: h = g / L = (1, 0), (0, 0.5); max norm 1 -> d = (1, 1)
    d = aggregate(bal, G, torch.tensor([2.0, 6.0]))
    assert d.tolist() == pytest.approx([1.0, 1.0], rel=1e-6)
    # step 2: g/L = (0.5, 0), (0, 1): h_a = .9*1 + .1*.5 = .95,
    # h_b = .9*.5 + .1*1 = .55 -> d = (.95, .95)
    d = aggregate(bal, G, torch.tensor([4.0, 3.0]))
    assert d.tolist() == pytest.approx([0.95, 0.95], rel=1e-6)


def test_absent_keeps_ema_and_roundtrip(roundtrip):
    bal = BALANCERS.build(dict(type='DBMTL', tasks=['a', 'b']))
    aggregate(bal, torch.tensor([[2.0, 0.0], [0.0, 3.0]]),
                  torch.tensor([2.0, 6.0]))
    aggregate(bal, torch.tensor([[0.0, 1.0]]), torch.tensor([1.0]),
              tasks=['b'])
    assert bal.ema[0].tolist() == pytest.approx([1.0, 0.0])
    assert bal.ema[1].tolist() == pytest.approx([0.0, 0.55])
    G = torch.randn(2, 5)
    roundtrip(dict(type='DBMTL', tasks=['a', 'b']),
              lambda b, k: aggregate(b, G * (k + 1), torch.tensor([1.0, 2.0])))
