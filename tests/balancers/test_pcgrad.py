import pytest
import torch

from mtlbox.balancers import pcgrad
from mtlbox.registry import BALANCERS
from tests.balancers.conftest import aggregate

T = ['a', 'b']


def test_conflicting_pair_projected():
    # g1 = (1, 0), g2 = (-1, 1): g1.g2 = -1 < 0
    # g1' = g1 - (-1/2) g2 = (0.5, 0.5); g2' = g2 - (-1/1) g1 = (0, 1)
    G = torch.tensor([[1.0, 0.0], [-1.0, 1.0]])
    assert pcgrad(G).tolist() == pytest.approx([0.5, 1.5])


def test_non_conflicting_is_sum():
    G = torch.tensor([[1.0, 0.5], [0.2, 1.0]])
    assert pcgrad(G).tolist() == pytest.approx([1.2, 1.5])


def test_absent_and_state_roundtrip(roundtrip):
    bal = BALANCERS.build(dict(type='PCGrad', tasks=['a', 'b', 'c']))
    d = aggregate(bal, torch.tensor([[1.0, 0.0], [-1.0, 1.0]]), torch.ones(2),
                  tasks=['a', 'c'])
    assert d.tolist() == pytest.approx([0.5, 1.5])
    assert bal.task_weights['b'] == 0.0
    # three mutually conflicting rows: the result depends on the random
    # order, which must resume exactly
    G = torch.tensor([[1.0, 0.1], [-0.6, 0.8], [-0.5, -0.9]])
    roundtrip(dict(type='PCGrad', tasks=['a', 'b', 'c']),
              lambda b, k: aggregate(b, G, torch.ones(3)), warmup=2, after=6)
