"""A tiny MultiTaskModel trained a few steps on SynthScenes through
``model.train_step`` and an mmengine OptimWrapper, for a representative
balancer of every ``needs`` path (and all the others once, plainly)."""
from types import SimpleNamespace

import pytest
import torch

from mtlbox.engine.hooks.balancer_hook import BalancerHook

REPRESENTATIVE = [
    dict(type='UW'),                                    # losses
    dict(type='GradNorm'),                              # grads, own loss
    dict(type='Compose', loss_weighting=dict(type='UW'),
         grad_method=dict(type='PCGrad')),              # composition
    dict(type='MGDA-UB'),                               # features
    dict(type='SLGrad', main_task='seg'),               # samples
]


def _train(model, batches, ow, val=None):
    if val is not None:
        model.balancer.set_val_batches(val)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    for batch in batches:
        out = model.train_step(batch, ow)
        assert all(torch.isfinite(v).all() for v in out.values()), out
    changed = {n for n, p in model.named_parameters()
               if not torch.equal(before[n], p.detach())}
    return changed


@pytest.mark.parametrize('cfg', REPRESENTATIVE, ids=lambda c: c['type'])
@pytest.mark.parametrize('accumulate', [1, 2])
def test_representative_trains(cfg, accumulate, tiny_model, batches, optim):
    model = tiny_model(cfg)
    ow = optim(model, lr=0.05, accumulative_counts=accumulate,
               clip_grad=dict(max_norm=10.0))
    val = batches(2, seed=9) if cfg['type'] == 'SLGrad' else None
    changed = _train(model, batches(4), ow, val)
    assert any(n.startswith('backbone') for n in changed)
    for task in ('seg', 'depth', 'normal'):
        assert any(n.startswith(f'heads.{task}') for n in changed), task
    learnable = [n for n, p in model.balancer.named_parameters()]
    for name in learnable:  # UW log-variances, GradNorm weights ...
        assert f'balancer.{name}' in changed, name


ALL = [
    dict(type='EW'), dict(type='Fixed', weights=dict(seg=1, depth=2,
                                                      normal=1)),
    dict(type='DWA'), dict(type='RLW'), dict(type='GLS'),
    dict(type='GeMTL', total_iters=10), dict(type='STCH'), dict(type='FAMO'),
    dict(type='IMTL-L'),
    dict(type='DTP', metric_keys=dict(seg='s', depth='d', normal='n')),
    dict(type='AMTL', metric_keys=dict(seg='s', depth='d', normal='n'),
         potentials=dict(seg=0.8, depth=0.9, normal=0.5)),
    dict(type='MGDA', normalization='loss+'), dict(type='CAGrad'),
    dict(type='IMTL-G'), dict(type='IMTL'), dict(type='GradVac'),
    dict(type='GradDrop'), dict(type='Nash-MTL'), dict(type='Aligned-MTL'),
    dict(type='DB-MTL'), dict(type='UPGrad'), dict(type='MoCo'),
    dict(type='OL-AUX', main_task='seg'), dict(type='Gcosim', main_task='seg'),
    dict(type='PCGrad'),
]


@pytest.mark.parametrize('cfg', ALL, ids=lambda c: c['type'])
def test_every_balancer_partial_labels(cfg, tiny_model, batches, optim):
    """Every method trains with partially labelled batches (tasks absent
    from some steps), stays finite, and gets its metrics via the hook."""
    model = tiny_model(cfg)
    ow = optim(model, lr=0.05)
    data = batches(6, batch_size=1,
                   label_groups=[['seg', 'depth'], ['normal']],
                   label_prob=dict(depth=0.5))
    hook = BalancerHook(interval=1)
    runner = SimpleNamespace(
        model=model, epoch=0, iter=0,
        logger=SimpleNamespace(info=lambda msg: None),
        visualizer=SimpleNamespace(add_scalars=lambda *a, **k: None))
    present = []
    for i, batch in enumerate(data):
        out = model.train_step(batch, ow)
        present.append({k.split('.')[0] for k in out if '.loss' in k})
        assert all(torch.isfinite(v).all() for v in out.values())
        runner.iter = i
        hook.after_train_iter(runner, i)
    assert any(len(p) < 3 for p in present)  # tasks were absent
    hook.after_train_epoch(runner)
    hook.after_val_epoch(runner, dict(s=0.5, d=0.7, n=0.2))
    out = model.train_step(data[0], ow)
    assert all(torch.isfinite(v).all() for v in out.values())
    for name, value in model.balancer.state_dict().items():
        if value.dtype.is_floating_point and 'initial' not in name and \
                'prev' not in name:  # NaN marks "not seen yet" there
            assert torch.isfinite(value).all(), name
