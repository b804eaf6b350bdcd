import pytest
import torch

from mtlbox.balancers import project_simplex
from mtlbox.balancers.gradient.solvers import min_norm_two


def test_project_simplex():
    assert project_simplex(torch.tensor([0.45, 0.3])).tolist() == \
        pytest.approx([0.575, 0.425])
    assert project_simplex(torch.tensor([2.0, 0.0, -1.0])).tolist() == \
        pytest.approx([1.0, 0.0, 0.0])
    assert project_simplex(torch.tensor([0.2, 0.3, 0.5])).tolist() == \
        pytest.approx([0.2, 0.3, 0.5])


def test_min_norm_two_segment():
    # |g1|^2 = 1, |g2|^2 = 4, g1.g2 = 0 -> gamma = 4 / 5
    assert min_norm_two(torch.tensor(1.0), torch.tensor(0.0),
                        torch.tensor(4.0)).item() == pytest.approx(0.8)
    # equal vectors: any point; 0.5 by convention
    assert min_norm_two(torch.tensor(1.0), torch.tensor(1.0),
                        torch.tensor(1.0)).item() == 0.5


def test_min_norm_weights_starts_at_the_first_best_pair():
    from mtlbox.balancers.gradient.solvers import min_norm_weights
    # pairs (0, 3) and (2, 3) both reach the origin; (0, 3) comes first
    G = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [-1.0, 0.0]])
    start = min_norm_weights(G @ G.T, max_iter=0)
    assert start.tolist() == pytest.approx([0.5, 0.0, 0.0, 0.5])
    # T = 12 at random: the start is the pair a loop over i < j finds
    torch.manual_seed(0)
    G = torch.randn(12, 30, dtype=torch.float64) + 0.5
    M = G @ G.T
    best, pair = None, None
    for i in range(12):
        for j in range(i + 1, 12):
            g = min(max((M[j, j] - M[i, j]) / (M[i, i] + M[j, j]
                                               - 2 * M[i, j]), 0.0), 1.0)
            value = float(((g * G[i] + (1 - g) * G[j])**2).sum())
            if best is None or value < best:
                best, pair = value, (i, j, float(g))
    start = min_norm_weights(M, max_iter=0)
    i, j, g = pair
    expected = [0.0] * 12
    expected[i], expected[j] = g, 1 - g
    assert start.tolist() == pytest.approx(expected, abs=1e-12)
    # Frank-Wolfe only lowers the norm from there
    w = min_norm_weights(M)
    assert float(w @ M @ w) <= best + 1e-12
    assert w.sum().item() == pytest.approx(1.0) and (w >= 0).all()
