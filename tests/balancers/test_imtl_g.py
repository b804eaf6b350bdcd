import pytest
import torch

from mtlbox.balancers import imtl_g_weights
from mtlbox.registry import BALANCERS
from tests.balancers.conftest import aggregate


def test_two_tasks_closed_form():
    # g1 = (2, 0), g2 = (0, 1): equal projections on e1, e2 means d = (x, x)
    # with d = a1 (2, 0) + a2 (0, 1), a1 + a2 = 1: 2 a1 = a2 -> a = (1/3, 2/3)
    G = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    assert imtl_g_weights(G).tolist() == pytest.approx([1 / 3, 2 / 3])


def test_equal_projections_three_tasks():
    G = torch.tensor([[1.0, 0.2, 0.0, 0.3], [0.1, 2.0, 0.5, 0.0],
                      [-0.4, 0.3, 0.7, 1.0]])
    bal = BALANCERS.build(dict(type='IMTL-G', tasks=['a', 'b', 'c']))
    d = aggregate(bal, G, torch.ones(3))
    units = G / G.norm(dim=1, keepdim=True)
    proj = units @ d
    assert proj.tolist() == pytest.approx([proj[0].item()] * 3, rel=1e-4)
    assert sum(bal.task_weights.values()) == pytest.approx(1.0)


def test_single_present_task():
    bal = BALANCERS.build(dict(type='IMTLG', tasks=['a', 'b']))
    g = torch.tensor([[3.0, 4.0]])
    assert aggregate(bal, g, torch.ones(1), tasks=['b']).tolist() == [3.0, 4.0]


def test_zero_gradient_row_gets_weight_zero():
    # g1 = (1, 2, 0), g2 = 0, g3 = (0, 1, 1). The zero row must not take all
    # the weight (a zero update); it gets 0 and the rest is IMTL-G of g1, g3:
    # d = a g1 + (1 - a) g3 with d . g1 / sqrt(5) = d . g3 / sqrt(2):
    # (3a + 2) / sqrt(5) = 2 / sqrt(2) -> a = (sqrt(10) - 2) / 3.
    G = torch.tensor([[1.0, 2.0, 0.0], [0.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    a = (10 ** 0.5 - 2) / 3
    assert imtl_g_weights(G).tolist() == pytest.approx([a, 0.0, 1 - a],
                                                       abs=1e-7)
    bal = BALANCERS.build(dict(type='IMTL-G', tasks=['a', 'b', 'c']))
    d = aggregate(bal, G, torch.ones(3))
    assert d.tolist() == pytest.approx([a, 1 + a, 1 - a], abs=1e-6)
    # float64 gives the same
    G64 = G.double()
    assert imtl_g_weights(G64).tolist() == pytest.approx([a, 0.0, 1 - a],
                                                         abs=1e-12)


def test_zero_rows_only_one_left_or_none():
    G = torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0]])
    assert imtl_g_weights(G).tolist() == [0.0, 1.0, 0.0]
    # every row zero: d = 0 whatever the weights; they stay finite
    w = imtl_g_weights(torch.zeros(3, 2))
    assert torch.isfinite(w).all()
    assert (w @ torch.zeros(3, 2)).tolist() == [0.0, 0.0]
