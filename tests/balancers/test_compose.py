import math

import pytest
import torch

from mtlbox.registry import BALANCERS
from tests.balancers.conftest import aggregate, aggregation

T = ['a', 'b']


def test_fixed_weights_then_pcgrad():
    bal = BALANCERS.build(dict(type='Compose', tasks=T,
                               loss_weighting=dict(type='Fixed',
                                                   weights=dict(a=2, b=1)),
                               grad_method=dict(type='PCGrad')))
    assert bal.needs == 'grads'
    # weighted rows (2, 0), (-1, 1): (2,0)' = (2,0) + (-1,1) = (1, 1);
    # (-1,1)' = (-1,1) + 0.5 (2, 0) = (0, 1) -> (1, 2)
    G = torch.tensor([[1.0, 0.0], [-1.0, 1.0]])
    out = aggregation(bal, G, torch.ones(2))
    assert out.combined(G).tolist() == pytest.approx(
        [1.0, 2.0])
    assert out.specific_weights.tolist() == [2.0, 1.0]


def test_uw_weights_and_scale_training(roundtrip):
    bal = BALANCERS.build(dict(type='Compose', tasks=T,
                               loss_weighting=dict(type='UW'),
                               grad_method=dict(type='MGDA')))
    with torch.no_grad():
        bal.loss_weighting.log_vars[1] = math.log(2.0)
    G = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    # UW weights 1/(2 e^s) = (1/2, 1/4): rows (.5, 0), (0, .25); MGDA on them:
    # gamma = .0625 / (.25 + .0625) = .2 -> (.1, .2)
    out = aggregation(bal, G, torch.tensor([1.0, 2.0]))
    d = out.combined(G)
    assert d.tolist() == pytest.approx([0.1, 0.2])
    out.parameter_loss.backward()
    # dF/ds = -L e^{-s} / 2 + 1/2: (0, 0)
    assert bal.loss_weighting.log_vars.grad.tolist() == pytest.approx(
        [0.0, 0.0])


def test_amtl_geometric_weights_feed_grad_method():
    amtl = dict(type='AMTL', potentials=dict(a=0.5, b=0.5),
                metric_keys=dict(a='a/m', b='b/m'))
    bal = BALANCERS.build(dict(type='Compose', tasks=T, loss_weighting=amtl,
                               grad_method=dict(type='PCGrad')))
    # before evaluation w = (1/2, 1/2): F = sqrt(L_a L_b); dF/dL_a =
    # F / (2 L_a) = 2 / 2 = 1 for L = (1, 4); dF/dL_b = 2 / 8 = 0.25
    G = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    d = aggregate(bal, G, torch.tensor([1.0, 4.0]))
    assert d.tolist() == pytest.approx([1.0, 0.25])
    bal.after_val({'a/m': 0.2, 'b/m': 0.4})
    assert bool(bal.loss_weighting.kpi.seen.all())


def test_absent_and_roundtrip(roundtrip):
    cfg = dict(type='Compose', tasks=['a', 'b', 'c'],
               loss_weighting=dict(type='RLW'),
               grad_method=dict(type='GradVac'))
    bal = BALANCERS.build(cfg)
    d = aggregate(bal, torch.tensor([[1.0, 0.0], [-1.0, 1.0]]),
                  torch.ones(2), tasks=['a', 'c'])
    assert torch.isfinite(d).all() and bal.task_weights['b'] == 0.0
    G = torch.randn(3, 4)
    roundtrip(cfg, lambda b, k: aggregate(b, G, torch.ones(3)))


def test_errors():
    with pytest.raises(ValueError, match='loss-level'):
        BALANCERS.build(dict(type='Compose', tasks=T,
                             loss_weighting=dict(type='PCGrad'),
                             grad_method=dict(type='PCGrad')))
    with pytest.raises(ValueError, match='gradient-level'):
        BALANCERS.build(dict(type='Compose', tasks=T,
                             loss_weighting=dict(type='EW'),
                             grad_method=dict(type='EW')))


def test_compose_family_is_its_gradient_methods():
    """Compose reported needs='losses' at class level (BaseBalancer's
    default) while instances took the gradient method's family."""
    from mtlbox.registry import BALANCERS
    feats = BALANCERS.build(dict(type='Compose', tasks=['a', 'b'],
                                 loss_weighting=dict(type='UW'),
                                 grad_method=dict(type='MGDA-UB')))
    assert feats.needs == 'features'
    assert not isinstance(BALANCERS.get('Compose').needs, str)


def test_weights_are_the_product_of_the_parts():
    """Compose's reported weights multiply its parts' (the loss-level
    method's reported weights times the gradient method's), its specific
    weights are dF/dL times the gradient method's, and the parts'
    attributes are left alone (the contract is pure)."""
    bal = BALANCERS.build(dict(type='Compose', tasks=['a', 'b', 'c'],
                               loss_weighting=dict(type='Fixed', weights=dict(
                                   a=2.0, b=3.0, c=0.5)),
                               grad_method=dict(type='IMTL')))
    with torch.no_grad():
        bal.grad_method.scales.copy_(torch.log(torch.tensor([1., 2., 4.])))
    parts = [dict(vars(m)) for m in (bal.loss_weighting, bal.grad_method)]
    # rows a, c: Fixed weights (2, 0.5) -> rows (2, 0), (0, 0.5); IMTL
    # scales e^s = (1, 4) -> (2, 0), (0, 2); IMTL-G weights of those (1/2,
    # 1/2) -> IMTL's weights e^s a = (1/2, 2), d = (1, 1)
    G = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    out = aggregation(bal, G, torch.ones(2), tasks=['a', 'c'])
    assert out.combined(G).tolist() == pytest.approx([1.0, 1.0])
    assert out.weights.tolist() == pytest.approx([2.0 * 0.5, 0.5 * 2.0])
    assert out.specific_weights.tolist() == pytest.approx([2.0, 2.0])
    assert bal.task_weights == pytest.approx(dict(a=1.0, b=0.0, c=1.0))
    # only IMTL's scale loss trains something (Fixed has no parameters):
    # d/ds (e^s L - s) = e^s - 1 at L = 1 for a, c; b absent
    out.parameter_loss.backward()
    assert bal.grad_method.scales.grad.tolist() == pytest.approx(
        [0.0, 0.0, 3.0])
    assert [vars(m) for m in (bal.loss_weighting, bal.grad_method)] == parts
