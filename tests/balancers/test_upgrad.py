import pytest
import torch

from mtlbox.balancers import box_qp, upgrad_weights
from mtlbox.registry import BALANCERS


def test_conflicting_pair_by_hand():
    # pi(g1) = g1 - (g1.g2/|g2|^2) g2 = (.5, .5); pi(g2) = g2 + g1 = (0, 1)
    G = torch.tensor([[1.0, 0.0], [-1.0, 1.0]])
    bal = BALANCERS.build(dict(type='UPGrad', tasks=['a', 'b']))
    d = bal.aggregate(G, torch.ones(2))
    assert d.tolist() == pytest.approx([0.25, 0.75], abs=1e-6)


def test_non_conflicting_is_mean_and_never_conflicts():
    G = torch.tensor([[1.0, 0.5], [0.2, 1.0]])
    w = upgrad_weights(G @ G.T)
    assert (w @ G).tolist() == pytest.approx(G.mean(0).tolist())
    torch.manual_seed(3)
    G = torch.randn(4, 3)
    d = upgrad_weights(G @ G.T) @ G
    assert ((G @ d) >= -1e-5).all()


def test_box_qp_matches_projection():
    # min w^T M w, w >= e_1 for M = I (orthogonal rows): w = e_1
    w = box_qp(torch.eye(3), torch.eye(3))
    assert torch.allclose(w, torch.eye(3), atol=1e-6)
    # M = [[1, -1], [-1, 2]], w >= (1, 0): w = (1, 1/2) (free w2 = -M21/M22)
    M = torch.tensor([[1.0, -1.0], [-1.0, 2.0]])
    w = box_qp(M, torch.tensor([[1.0, 0.0]]))
    assert w[0].tolist() == pytest.approx([1.0, 0.5])


def test_absent():
    bal = BALANCERS.build(dict(type='UPGrad', tasks=['a', 'b', 'c']))
    bal.step_tasks = ['a', 'c']
    d = bal.aggregate(torch.tensor([[1.0, 0.0], [-1.0, 1.0]]), torch.ones(2))
    assert d.tolist() == pytest.approx([0.25, 0.75], abs=1e-6)
