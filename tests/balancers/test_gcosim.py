import pytest
import torch

from mtlbox.registry import BALANCERS
from tests.balancers.conftest import aggregate


def test_gate_and_weighted():
    G = torch.tensor([[1.0, 0.0], [1.0, 1.0], [-1.0, 0.5]])
    bal = BALANCERS.build(dict(type='Gcosim', tasks=['m', 'a', 'b'],
                               main_task='m'))
    # cos(m, a) > 0 kept, cos(m, b) < 0 dropped
    assert aggregate(bal, G, torch.ones(3)).tolist() == [2.0, 1.0]
    w = BALANCERS.build(dict(type='Gcosim', tasks=['m', 'a', 'b'],
                             main_task='m', weighted=True))
    c = 2**-0.5
    assert aggregate(w, G, torch.ones(3)).tolist() == pytest.approx(
        [1 + c, c])


def test_main_absent():
    bal = BALANCERS.build(dict(type='Gcosim', tasks=['m', 'a', 'b'],
                               main_task='m'))
    assert aggregate(bal, torch.tensor([[1.0, 1.0], [-1.0, 0.5]]),
                     torch.ones(2), tasks=['a', 'b']).tolist() == [0.0, 1.5]
