import pytest
import torch

from mtlbox.balancers import cagrad, cagrad_weights
from mtlbox.registry import BALANCERS


def test_orthogonal_equal_norm():
    # gbar = (.5, .5); objective 0.5 + c ||w|| -> w = (.5, .5);
    # d = gbar (1 + alpha) = (.75, .75); rescale 1: / 1.25; rescale 2: / 1.5
    G = torch.eye(2)
    assert cagrad(G, 0.5, rescale=0).tolist() == pytest.approx([0.75, 0.75])
    assert cagrad(G, 0.5, rescale=1).tolist() == pytest.approx([0.6, 0.6])
    assert cagrad(G, 0.5, rescale=2).tolist() == pytest.approx([0.5, 0.5])
    assert cagrad_weights(G @ G.T, 0.5).tolist() == pytest.approx(
        [0.5, 0.5], abs=1e-4)


def test_alpha_zero_is_mean_and_worst_case_improves():
    G = torch.tensor([[1.0, 0.0], [-0.8, 0.4]])
    assert cagrad(G, 0.0, rescale=0).tolist() == pytest.approx(
        G.mean(0).tolist())
    # CAGrad maximises the worst local improvement min_t g_t . d within the
    # ball ||d - gbar|| <= c: it must beat gbar's worst improvement
    d = cagrad(G, 0.5, rescale=0)
    gbar = G.mean(0)
    assert (d - gbar).norm().item() == pytest.approx(0.5 * gbar.norm().item(),
                                                     rel=1e-4)
    assert (G @ d).min().item() > (G @ gbar).min().item()
    # and it is the optimum on that sphere: a brute-force search over angles
    # finds no better worst-case improvement
    r = 0.5 * gbar.norm()
    angles = torch.linspace(0, 6.2832, 20000)
    cands = gbar + r * torch.stack([angles.cos(), angles.sin()], 1)
    best = (cands @ G.T).min(1).values.max()
    assert (G @ d).min().item() == pytest.approx(best.item(), abs=1e-4)


def test_absent_task():
    bal = BALANCERS.build(dict(type='CAGrad', tasks=['a', 'b', 'c'],
                               rescale=0))
    bal.step_tasks = ['a', 'b']
    assert bal.aggregate(torch.eye(2), torch.ones(2)).tolist() == \
        pytest.approx([0.75, 0.75])
