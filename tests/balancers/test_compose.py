import math

import pytest
import torch

from mtlbox.registry import BALANCERS

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
    assert bal.aggregate(G, torch.ones(2)).tolist() == pytest.approx(
        [1.0, 2.0])
    assert bal.specific_weights.tolist() == [2.0, 1.0]


def test_uw_weights_and_scale_training(roundtrip):
    bal = BALANCERS.build(dict(type='Compose', tasks=T,
                               loss_weighting=dict(type='UW'),
                               grad_method=dict(type='MGDA')))
    with torch.no_grad():
        bal.loss_weighting.log_vars[1] = math.log(2.0)
    G = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    # UW weights 1/(2 e^s) = (1/2, 1/4): rows (.5, 0), (0, .25); MGDA on them:
    # gamma = .0625 / (.25 + .0625) = .2 -> (.1, .2)
    d = bal.aggregate(G, torch.tensor([1.0, 2.0]))
    assert d.tolist() == pytest.approx([0.1, 0.2])
    bal.pop_parameter_loss().backward()
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
    d = bal.aggregate(G, torch.tensor([1.0, 4.0]))
    assert d.tolist() == pytest.approx([1.0, 0.25])
    bal.after_val({'a/m': 0.2, 'b/m': 0.4})
    assert bool(bal.loss_weighting.kpi.seen.all())


def test_absent_and_roundtrip(roundtrip):
    cfg = dict(type='Compose', tasks=['a', 'b', 'c'],
               loss_weighting=dict(type='RLW'),
               grad_method=dict(type='GradVac'))
    bal = BALANCERS.build(cfg)
    bal.step_tasks = ['a', 'c']
    d = bal.aggregate(torch.tensor([[1.0, 0.0], [-1.0, 1.0]]), torch.ones(2))
    assert torch.isfinite(d).all() and bal.task_weights['b'] == 0.0
    G = torch.randn(3, 4)
    roundtrip(cfg, lambda b, k: b.aggregate(G, torch.ones(3)))


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
