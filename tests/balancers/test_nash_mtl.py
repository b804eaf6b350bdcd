import pytest
import torch

from mtlbox.balancers import nash_weights
from mtlbox.registry import BALANCERS
from tests.balancers.conftest import aggregate


def test_orthogonal_closed_form():
    # M = diag(4, 1/4): a_t^2 M_tt = 1 -> a = (1/2, 2); d = (1, 1) and every
    # task improves by g_t . d = 1 / a_t
    G = torch.tensor([[2.0, 0.0], [0.0, 0.5]])
    bal = BALANCERS.build(dict(type='Nash-MTL', tasks=['a', 'b']))
    d = aggregate(bal, G, torch.ones(2))
    assert [bal.task_weights['a'], bal.task_weights['b']] == pytest.approx(
        [0.5, 2.0])
    assert d.tolist() == pytest.approx([1.0, 1.0])


def test_solves_bargaining_equation():
    torch.manual_seed(1)
    G = torch.randn(4, 10)
    a, residual = nash_weights(G @ G.T)
    M = (G @ G.T).double()
    assert (a > 0).all()
    assert (M @ a.double()).tolist() == pytest.approx(
        (1 / a.double()).tolist(), rel=1e-5)
    assert residual < 1e-8
    # the same for a badly scaled G
    a, _ = nash_weights((G * 1e-3) @ (G * 1e-3).T)
    assert ((M * 1e-6) @ a.double() * a.double()).tolist() == pytest.approx(
        [1.0] * 4, rel=1e-5)


def test_conflicting_pair_and_absent():
    # g1 = (1, 0), g2 = (-1, 1): M = [[1, -1], [-1, 2]]; check M a = 1/a
    G = torch.tensor([[1.0, 0.0], [-1.0, 1.0]])
    bal = BALANCERS.build(dict(type='NashMTL', tasks=['a', 'b', 'c']))
    d = aggregate(bal, G, torch.ones(2), tasks=['a', 'c'])
    a = torch.tensor([bal.task_weights['a'], bal.task_weights['c']])
    assert (G @ d).tolist() == pytest.approx((1 / a).tolist(), rel=1e-5)
    assert bal.task_weights['b'] == 0.0


def test_gram_scaling_relation_and_scale_invariance():
    # M a = 1/a: for M / n the solution is sqrt(n) a, so a solver fed
    # M / ||M|| (and not multiplying the norm back, as the references do in
    # their constraints) returns d larger by exactly sqrt(||M||)
    G = torch.tensor([[1.0, 0.0, 2.0], [-1.0, 1.0, 0.5], [0.3, 2.0, -1.0]],
                     dtype=torch.float64) * 7.0
    M = G @ G.T
    n = M.norm()
    a, _ = nash_weights(M)
    a_n, _ = nash_weights(M / n)
    assert torch.allclose(a_n, a * n.sqrt(), rtol=1e-8)
    # the raw system (what the references solve) does not depend on the
    # gradients' scale: d(c G) = d(G)
    bal = BALANCERS.build(dict(type='NashMTL', tasks=['a', 'b', 'c']))
    d = aggregate(bal, G, torch.ones(3))
    assert torch.allclose(aggregate(bal, 1e-3 * G, torch.ones(3)), d,
                          rtol=1e-6)


def test_normalize_gram_option_removed():
    # it claimed to mimic the references but gave d * sqrt(||M||); the
    # references solve the raw system, which is the default here
    with pytest.raises(ValueError, match='normalize_gram'):
        BALANCERS.build(dict(type='NashMTL', tasks=['a', 'b'],
                             normalize_gram=True))
