import pytest
import torch

from mtlbox.balancers import imtl_g_weights
from mtlbox.registry import BALANCERS


def test_two_tasks_closed_form():
    # g1 = (2, 0), g2 = (0, 1): equal projections on e1, e2 means d = (x, x)
    # with d = a1 (2, 0) + a2 (0, 1), a1 + a2 = 1: 2 a1 = a2 -> a = (1/3, 2/3)
    G = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    assert imtl_g_weights(G).tolist() == pytest.approx([1 / 3, 2 / 3])


def test_equal_projections_three_tasks():
    G = torch.tensor([[1.0, 0.2, 0.0, 0.3], [0.1, 2.0, 0.5, 0.0],
                      [-0.4, 0.3, 0.7, 1.0]])
    bal = BALANCERS.build(dict(type='IMTL-G', tasks=['a', 'b', 'c']))
    d = bal.aggregate(G, torch.ones(3))
    units = G / G.norm(dim=1, keepdim=True)
    proj = units @ d
    assert proj.tolist() == pytest.approx([proj[0].item()] * 3, rel=1e-4)
    assert sum(bal.task_weights.values()) == pytest.approx(1.0)


def test_single_present_task():
    bal = BALANCERS.build(dict(type='IMTLG', tasks=['a', 'b']))
    bal.step_tasks = ['b']
    g = torch.tensor([[3.0, 4.0]])
    assert bal.aggregate(g, torch.ones(1)).tolist() == [3.0, 4.0]
