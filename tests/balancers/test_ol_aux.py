import pytest
import torch

from mtlbox.registry import BALANCERS
from tests.balancers.conftest import aggregate


def test_weights_update_every_n_steps():
    bal = BALANCERS.build(dict(type='OL-AUX', tasks=['main', 'aux'],
                               main_task='main', eta=0.1))
    G = torch.tensor([[1.0, 0.0], [1.0, 1.0]])  # <g_main, g_aux> = 1
    assert aggregate(bal, G, torch.ones(2)).tolist() == [2.0, 1.0]
    assert aggregate(bal, G, torch.ones(2)).tolist() == [2.0, 1.0]
    # after N = 2 steps: w += eta * sum <g_main, g_aux> = 1 + 0.1 * 2
    assert bal.aux_weights.tolist() == pytest.approx([1.0, 1.2])
    assert aggregate(bal, G, torch.ones(2)).tolist() == pytest.approx(
        [2.2, 1.2])


def test_adam_and_absent_and_roundtrip(roundtrip):
    cfg = dict(type='OLAUX', tasks=['main', 'x', 'y'], main_task='main',
               optimizer='adam', eta=0.05)
    bal = BALANCERS.build(cfg)
    G = torch.tensor([[1.0, 0.0], [-1.0, 1.0]])
    aggregate(bal, G, torch.ones(2), tasks=['main', 'x'])
    aggregate(bal, G, torch.ones(2), tasks=['main', 'x'])
    # first Adam step: -lr * sign(grad); grad_x = -(-2)/2 = 1 -> w_x -= 0.1
    assert bal.aux_weights.tolist() == pytest.approx([1.0, 0.9, 1.0])
    G3 = torch.randn(3, 4)
    roundtrip(cfg, lambda b, k: aggregate(b, G3, torch.ones(3)), warmup=3,
              after=4)
    with pytest.raises(KeyError, match='main_task'):
        BALANCERS.build(dict(type='OLAUX', tasks=['a'], main_task='b'))
