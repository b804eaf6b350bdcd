import math

import pytest
import torch

from mtlbox.registry import BALANCERS
from tests.balancers.conftest import aggregate, aggregation


def test_hybrid_scales_rows_and_trains_scales():
    bal = BALANCERS.build(dict(type='IMTL', tasks=['a', 'b']))
    with torch.no_grad():
        bal.scales[0] = math.log(2.0)
    G = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    losses = torch.tensor([3.0, 0.5])
    out = aggregation(bal, G, losses)
    d = out.combined(G)
    # scaled rows (2, 0), (0, 1): IMTL-G weights (1/3, 2/3) -> d = (2/3, 2/3)
    assert d.tolist() == pytest.approx([2 / 3, 2 / 3])
    assert out.specific_weights.tolist() == pytest.approx([2.0, 1.0])
    out.parameter_loss.backward()
    # d/ds (e^s L - s) = e^s L - 1
    assert bal.scales.grad.tolist() == pytest.approx([5.0, -0.5])


def test_trains_through_model(tiny_model, batches, optim):
    model = tiny_model(dict(type='IMTL'))
    ow = optim(model, lr=0.1)
    for batch in batches(2):
        out = model.train_step(batch, ow)
        assert all(torch.isfinite(v) for v in out.values())
    assert (model.balancer.scales.detach() != 0).all()


def test_zero_gradient_row_gets_weight_zero():
    # rows (1, 2, 0), 0, (0, 1, 1) (scales 0): the zero row gets weight 0 and
    # the rest is IMTL-G of the two others, a = (sqrt(10) - 2) / 3 (see
    # tests/balancers/test_imtl_g.py), not a zero update
    bal = BALANCERS.build(dict(type='IMTL', tasks=['a', 'b', 'c']))
    G = torch.tensor([[1.0, 2.0, 0.0], [0.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    a = (10 ** 0.5 - 2) / 3
    d = aggregate(bal, G, torch.ones(3))
    assert d.tolist() == pytest.approx([a, 1 + a, 1 - a], abs=1e-6)
    assert bal.task_weights['b'] == 0.0
