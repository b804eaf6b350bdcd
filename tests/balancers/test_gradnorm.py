import pytest
import torch

from mtlbox.balancers import gradnorm_loss
from mtlbox.registry import BALANCERS
from tests.balancers.conftest import aggregate, aggregation


def test_grad_loss_by_hand():
    # w = (1, 1), n = (1, 3), L/L0 = (1, 1) -> r = 1; mean(w n) = 2;
    # L_grad = |1 - 2| + |3 - 2| = 2; dL/dw = (sign(-1) 1, sign(1) 3)
    w = torch.ones(2, requires_grad=True)
    loss = gradnorm_loss(w, torch.tensor([1.0, 3.0]), torch.ones(2),
                         torch.ones(2), alpha=1.5)
    assert loss.item() == pytest.approx(2.0)
    loss.backward()
    assert w.grad.tolist() == pytest.approx([-1.0, 3.0])
    # r = (2, 1)/1.5 with alpha 1.5: targets 2 * r^1.5
    w = torch.ones(2, requires_grad=True)
    loss = gradnorm_loss(w, torch.tensor([1.0, 3.0]), torch.tensor([2.0, 1.0]),
                         torch.ones(2), alpha=1.5)
    r = torch.tensor([2 / 1.5, 1 / 1.5])
    expected = (torch.tensor([1.0, 3.0]) - 2 * r**1.5).abs().sum()
    assert loss.item() == pytest.approx(expected.item())


def test_aggregate_records_l0_trains_and_renormalises():
    bal = BALANCERS.build(dict(type='GradNorm', tasks=['a', 'b']))
    G = torch.tensor([[1.0, 0.0], [0.0, 3.0]])
    out = aggregation(bal, G, torch.tensor([2.0, 5.0]))
    d = out.combined(G)
    assert d.tolist() == [1.0, 3.0]
    assert bal.initial_losses.tolist() == [2.0, 5.0]
    out.parameter_loss.backward()
    assert bal.weights.grad.tolist() == pytest.approx([-1.0, 3.0])
    # an optimizer step on w, then the next aggregate renormalises sum = T
    opt = torch.optim.SGD(bal.parameters(), lr=0.1)
    opt.step()
    assert bal.weights.tolist() == pytest.approx([1.1, 0.7])
    out = aggregation(bal, G, torch.tensor([2.0, 5.0]))
    d = out.combined(G)
    w = torch.tensor([1.1, 0.7]) * 2 / 1.8
    assert bal.weights.tolist() == pytest.approx(w.tolist())
    assert d.tolist() == pytest.approx([w[0].item(), 3 * w[1].item()])
    assert out.specific_weights.tolist() == pytest.approx(w.tolist())


def test_last_layer_norms_and_absent(roundtrip):
    bal = BALANCERS.build(dict(type='GradNorm', tasks=['a', 'b', 'c'],
                               norm_on=1))
    # only the last column counts: n = (1, 3)
    loss = aggregation(bal, torch.tensor([[100.0, 1.0], [-50.0, 3.0]]),
                       torch.ones(2), tasks=['a', 'c'],
                       numels=[1, 1]).parameter_loss
    assert loss.item() == pytest.approx(2.0)
    assert torch.isnan(bal.initial_losses[1])
    G = torch.randn(3, 4)
    roundtrip(dict(type='GradNorm', tasks=['a', 'b', 'c']),
              lambda b, k: aggregate(b, G, torch.rand(3) + 1 + k))
