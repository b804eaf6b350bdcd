import pytest
import torch

from mtlbox.balancers import box_qp, upgrad_weights
from mtlbox.registry import BALANCERS
from tests.balancers.conftest import aggregate


def test_conflicting_pair_by_hand():
    # pi(g1) = g1 - (g1.g2/|g2|^2) g2 = (.5, .5); pi(g2) = g2 + g1 = (0, 1)
    G = torch.tensor([[1.0, 0.0], [-1.0, 1.0]])
    bal = BALANCERS.build(dict(type='UPGrad', tasks=['a', 'b']))
    d = aggregate(bal, G, torch.ones(2))
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
    d = aggregate(bal, torch.tensor([[1.0, 0.0], [-1.0, 1.0]]), torch.ones(2),
                  tasks=['a', 'c'])
    assert d.tolist() == pytest.approx([0.25, 0.75], abs=1e-6)


@pytest.mark.parametrize('angle', [100.0, 120.0, 150.0, 179.0])
def test_dual_cone_kept_for_norms_1e4_apart(angle):
    # a ridge relative to mean(diag M) swamps the small task (its diagonal is
    # 1e-8 of the other): d conflicted with it (G[0] @ d = -0.012 at 120
    # degrees); the guarantee G d >= 0 must hold at every scale
    import math
    t = math.radians(angle)
    G = torch.tensor([[1e-2, 0.0, 0.0],
                      [1e2 * math.cos(t), 1e2 * math.sin(t), 0.0]],
                     dtype=torch.float64)
    d = upgrad_weights(G @ G.T) @ G
    bound = -1e-9 * G.norm(dim=1) * d.norm()
    assert ((G @ d) >= bound).all(), (G @ d).tolist()
    # closed form for two conflicting rows: pi(g1) is g1 projected onto the
    # half-space g2 . v >= 0 (it stays in g1 . v >= 0), the same for g2
    g1, g2 = G
    p1 = g1 - min(g1 @ g2, 0) / (g2 @ g2) * g2
    p2 = g2 - min(g1 @ g2, 0) / (g1 @ g1) * g1
    expected = (p1 + p2) / 2
    # (to the 1e-9 relative ridge times the large gradient)
    assert torch.allclose(d, expected, rtol=1e-6, atol=1e-8 * 1e2)


def test_dual_cone_kept_for_spread_norms_many_tasks():
    gen = torch.Generator().manual_seed(0)
    G = torch.randn(5, 40, generator=gen, dtype=torch.float64)
    G = G * torch.tensor([1e-2, 1e2, 1.0, 1e-1, 3e1],
                         dtype=torch.float64)[:, None]
    d = upgrad_weights(G @ G.T) @ G
    assert ((G @ d) >= -1e-9 * G.norm(dim=1) * d.norm()).all(), \
        (G @ d / G.norm(dim=1)).tolist()
