"""``level='features'`` for every gradient-level balancer: with an identity
trunk the feature gradients are the parameter gradients, so both levels
must take the same step; bad uses of ``level`` fail clearly."""
import copy

import pytest
import torch
from torch import nn

from mtlbox.registry import BALANCERS, MODELS

TASKS = ['seg', 'depth', 'normal']
#: constructor arguments a gradient method needs besides ``tasks``
EXTRA = {'OL-AUX': dict(main_task='seg'), 'OLAUX': dict(main_task='seg'),
         'Gcosim': dict(main_task='seg'), 'GradNorm': dict(alpha=1.5)}


def gradient_methods():
    """Every registered gradient-level balancer, one name per class."""
    names, seen = [], set()
    for name, cls in sorted(BALANCERS.module_dict.items()):
        if cls in seen or name == 'Compose':
            continue
        try:
            balancer = cls(tasks=TASKS, **EXTRA.get(name, {}))
        except TypeError:
            continue
        if balancer.needs == 'grads':
            seen.add(cls)
            names.append(name)
    return names


@MODELS.register_module(force=True)
class _IdentityTrunk(nn.Module):
    """The shared map *is* a parameter (batch of one): its gradient equals
    the feature gradient, so both levels see the same G."""

    def __init__(self):
        super().__init__()
        self.z = nn.Parameter(torch.randn(1, 8, 8, 8))

    def forward(self, x):
        return [self.z.expand(x.shape[0], -1, -1, -1)]


def _model(balancer, backbone='_IdentityTrunk', **kwargs):
    heads = dict(
        seg=dict(type='SegHead', in_channels=[8], num_classes=6, channels=8),
        depth=dict(type='DepthHead', in_channels=[8], channels=8),
        normal=dict(type='NormalHead', in_channels=[8], channels=8))
    return MODELS.build(dict(
        type='MultiTaskModel',
        data_preprocessor=dict(type='MTLDataPreprocessor',
                               mean=(128., ) * 3, std=(64., ) * 3,
                               pad_size_divisor=4),
        backbone=dict(type=backbone), heads=heads, balancer=balancer,
        **kwargs))


def _train(model, batches, optim):
    torch.manual_seed(0)
    ow = optim(model, accumulative_counts=2)
    for batch in batches:
        model.train_step(copy.deepcopy(batch), ow)
    return model.balanced_step


@pytest.mark.parametrize('name', gradient_methods())
def test_both_levels_agree_on_an_identity_trunk(name, batches, optim):
    cfg = dict(type=name, **EXTRA.get(name, {}))
    torch.manual_seed(0)
    grads = _model(cfg)
    features = copy.deepcopy(grads)
    features.balancer = BALANCERS.build(dict(cfg, tasks=TASKS,
                                             level='features'))
    assert features.balancer.needs == 'features'
    data = batches(2, batch_size=1)
    step_g = _train(grads, data, optim)
    step_f = _train(features, data, optim)
    assert type(step_f).__name__ == 'FeatureStep'
    assert step_f.last_path == ('tensors' if features.balancer.gramian
                                else 'matrix')
    for (key, a), b in zip(grads.named_parameters(),
                           features.parameters()):
        torch.testing.assert_close(b, a, atol=1e-6, rtol=1e-4, msg=key)
    torch.testing.assert_close(step_f.last_direction,
                               step_g.last_direction.reshape(-1),
                               atol=1e-6, rtol=1e-4)


def test_feature_level_through_a_real_trunk(tiny_model, batches, optim):
    """On a conv trunk the feature-level update of the trunk is the
    combined feature gradient back-propagated once: d(params) = -lr J^T d
    with d the step's last_direction."""
    model = tiny_model(dict(type='PCGrad', level='features'))
    batch = batches(1)[0]
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    before = copy.deepcopy(model.backbone)
    lr = 0.1
    model.train_step(copy.deepcopy(batch), optim(model, lr=lr))
    d = model.balanced_step.last_direction
    (feat, ) = before(data['inputs'])
    expected = torch.autograd.grad(feat, list(before.parameters()),
                                   grad_outputs=d.view_as(feat))
    for p0, p, e in zip(before.parameters(), model.backbone.parameters(),
                        expected):
        torch.testing.assert_close(p - p0, -lr * e, atol=1e-7, rtol=1e-4)


def test_level_errors_name_the_balancer_and_the_fix(tiny_model, batches,
                                                    optim):
    with pytest.raises(ValueError, match="EW level='features'.*not a gradient-level"):
        BALANCERS.build(dict(type='EW', tasks=TASKS, level='features'))
    with pytest.raises(ValueError, match="PCGrad level='pixels'"):
        BALANCERS.build(dict(type='PCGrad', tasks=TASKS, level='pixels'))
    with pytest.raises(ValueError, match="norm_on='all'"):
        BALANCERS.build(dict(type='GradNorm', tasks=TASKS, norm_on=1,
                             level='features'))
    compose = BALANCERS.build(dict(
        type='Compose', tasks=TASKS, level='features',
        loss_weighting=dict(type='UW'), grad_method=dict(type='PCGrad')))
    assert compose.needs == 'features'
    # an architecture mixing the shared map per task has no single
    # shared representation
    model = MODELS.build(dict(
        type='MultiTaskModel', backbone=dict(type='_TinyBackbone'),
        heads=dict(depth=dict(type='DepthHead', in_channels=[8], channels=8),
                   normal=dict(type='NormalHead', in_channels=[8],
                               channels=8)),
        architecture=dict(type='MMoE', in_channels=[8], num_experts=2),
        balancer=dict(type='PCGrad', level='features')))
    with pytest.raises(ValueError, match='architecture MMoE has shared '
                                         "parameters.*level='grads'"):
        model.train_step(batches(1, tasks=('depth', 'normal'))[0],
                         optim(model))


def test_stateful_feature_level_refuses_a_changed_width(tiny_model, batches,
                                                        optim):
    """DB-MTL's EMA over [T, F]: a batch of another size would restart it
    silently; it is an error that says how to fix it."""
    model = tiny_model(dict(type='DB-MTL', level='features'))
    ow = optim(model)
    model.train_step(batches(1, batch_size=2)[0], ow)
    with pytest.raises(ValueError, match='drop_last=True'):
        model.train_step(batches(1, batch_size=1)[0], ow)
