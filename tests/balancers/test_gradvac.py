import math

import pytest
import torch

from mtlbox.balancers import gradvac
from mtlbox.registry import BALANCERS
from tests.balancers.conftest import aggregate


def cos(a, b):
    return (a @ b / (a.norm() * b.norm())).item()


def test_sets_cosine_to_target():
    g1, g2 = torch.tensor([1.0, 0.0]), torch.tensor([-1.0, 2.0])
    G = torch.stack([g1, g2])
    targets = torch.tensor([[0.0, 0.5], [0.5, 0.0]])
    # process only task 0's adjustment: its cosine with g2 becomes 0.5
    out, new = gradvac(G, targets, beta=0.01)
    rho = cos(g1, g2)
    assert new[0, 1].item() == pytest.approx(0.99 * 0.5 + 0.01 * rho)
    # reconstruct g1' = out - g2' is not separable; check the rule directly
    # on a single pair instead
    G1 = torch.stack([g1, g2])
    t = torch.tensor([[0.0, 0.5], [-1.0, 0.0]])  # g2 never adjusted
    out, _ = gradvac(G1, t, beta=0.0)
    g1_new = out - g2
    assert cos(g1_new, g2) == pytest.approx(0.5, abs=1e-5)


def test_zero_target_is_pcgrad_projection():
    g1, g2 = torch.tensor([1.0, 0.0]), torch.tensor([-1.0, 1.0])
    out, _ = gradvac(torch.stack([g1, g2]), torch.zeros(2, 2), beta=0.01)
    assert out.tolist() == pytest.approx([0.5, 1.5])  # (.5,.5) + (0, 1)


def test_absent_state_and_roundtrip(roundtrip):
    bal = BALANCERS.build(dict(type='GradVac', tasks=['a', 'b', 'c'],
                               beta=0.5))
    aggregate(bal, torch.tensor([[1.0, 0.0], [1.0, 1.0]]), torch.ones(2),
              tasks=['a', 'c'])
    c = 1 / math.sqrt(2)
    assert bal.targets[0, 2].item() == pytest.approx(0.5 * c)
    assert bal.targets[0, 1].item() == 0.0 and bal.targets[1].abs().sum() == 0
    G = torch.tensor([[1.0, 0.1], [-0.6, 0.8], [-0.5, -0.9]])
    roundtrip(dict(type='GradVac', tasks=['a', 'b', 'c']),
              lambda b, k: aggregate(b, G, torch.ones(3)))
