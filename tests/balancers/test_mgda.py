import pytest
import torch

from mtlbox.balancers import min_norm_weights
from mtlbox.registry import BALANCERS
from tests.balancers.conftest import aggregate

T2 = ['a', 'b']
T3 = ['a', 'b', 'c']


def test_two_tasks_closed_form():
    # g1 = (1, 0), g2 = (0, 2): min-norm point gamma g1 + (1-gamma) g2 with
    # gamma = (4 - 0) / (1 + 4) = 0.8 -> (0.8, 0.4)
    G = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    bal = BALANCERS.build(dict(type='MGDA', tasks=T2))
    d = aggregate(bal, G, torch.ones(2))
    assert d.tolist() == pytest.approx([0.8, 0.4])
    # a dominated pair: g2 = 2 g1 -> the min-norm point is g1
    d = aggregate(bal, torch.tensor([[1.0, 1.0], [2.0, 2.0]]), torch.ones(2))
    assert d.tolist() == pytest.approx([1.0, 1.0])


def test_three_tasks_frank_wolfe():
    # hull of e1, e2, (1, 1): min-norm point (0.5, 0.5), weights (.5, .5, 0)
    G = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    w = min_norm_weights(G @ G.T)
    assert w.tolist() == pytest.approx([0.5, 0.5, 0.0], abs=1e-4)
    # three unit vectors at 120 degrees: 0 is in the hull, weights 1/3 each
    c, s = -0.5, 3**0.5 / 2
    G = torch.tensor([[1.0, 0.0], [c, s], [c, -s]])
    w = min_norm_weights(G @ G.T)
    assert (w @ G).norm().item() < 1e-3
    assert w.tolist() == pytest.approx([1 / 3] * 3, abs=1e-3)


def test_normalizations():
    G = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    losses = torch.tensor([4.0, 1.0])
    # l2: unit rows -> weights (0.5, 0.5) on units -> d = (0.5, 0.5)
    bal = BALANCERS.build(dict(type='MGDA', tasks=T2, normalization='l2'))
    assert aggregate(bal, G, losses).tolist() == pytest.approx([0.5, 0.5])
    # loss: rows (0.5, 0), (0, 1): gamma = 1 / 1.25 = 0.8 on row 1
    # -> d = 0.8 (0.5, 0) + 0.2 (0, 1) = (0.4, 0.2)
    bal = BALANCERS.build(dict(type='MGDA', tasks=T2, normalization='loss'))
    assert aggregate(bal, G, losses).tolist() == pytest.approx([0.4, 0.2])
    # loss+: rows (1/4, 0), (0, 1): gamma = 1/(1/16 + 1) -> d = gamma (1/4,0)
    # + (1 - gamma)(0, 1)
    g = 1 / (1 / 16 + 1)
    bal = BALANCERS.build(dict(type='MGDA', tasks=T2, normalization='loss+'))
    assert aggregate(bal, G, losses).tolist() == pytest.approx(
        [g / 4, 1 - g])
    with pytest.raises(ValueError, match='normalization'):
        BALANCERS.build(dict(type='MGDA', tasks=T2, normalization='x'))


def test_absent_task_rows():
    bal = BALANCERS.build(dict(type='MGDA', tasks=T3))
    d = aggregate(bal, torch.tensor([[1.0, 0.0], [0.0, 2.0]]), torch.ones(2),
                  tasks=['a', 'c'])
    assert d.tolist() == pytest.approx([0.8, 0.4])
    assert bal.task_weights['b'] == 0.0
    assert bal.task_weights['c'] == pytest.approx(0.2)
    # the names must match the rows: 2 rows named by 3 tasks
    with pytest.raises(ValueError, match='3 present tasks'):
        aggregate(bal, torch.ones(2, 2), torch.ones(2), tasks=T3)
