"""The default runtime writes TensorBoard events: per-task losses, task
weights, learning rate, validation metrics and the gradient-conflict
cosines of a gradient-level run (GradConflictHook)."""
import glob
import itertools
import os.path as osp

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs/synth/hps_r18_ew_synth.py')
TINY = dict(
    train_dataloader=dict(batch_size=4, num_workers=0,
                          persistent_workers=False,
                          dataset=dict(num_samples=8, img_size=(32, 40))),
    val_dataloader=dict(batch_size=4, num_workers=0,
                        persistent_workers=False,
                        dataset=dict(num_samples=4, img_size=(32, 40))),
    train_cfg=dict(max_epochs=1, val_interval=1),
    default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
    param_scheduler=[],
)


@pytest.fixture(scope='module')
def run_dir(tmp_path_factory):
    from mtlbox.utils.config_check import load_config
    from mtlbox.utils.launch import build_runner
    work = tmp_path_factory.mktemp('tb')
    cfg = load_config(CONFIG)
    cfg.merge_from_dict(TINY)
    cfg.test_dataloader = cfg.val_dataloader
    cfg.model.balancer = dict(type='PCGrad')
    for hook in cfg.custom_hooks:
        if hook['type'] in ('GradConflictHook', 'BalancerHook'):
            hook['interval'] = 1
    cfg.work_dir = str(work)
    cfg.experiment_name = 'tb_tracking'
    runner = build_runner(cfg)
    runner.train()
    return work


def _scalars(work):
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    events = glob.glob(osp.join(str(work), '*', 'vis_data',
                                'events.out.tfevents.*'))
    assert len(events) == 1, events
    acc = EventAccumulator(events[0], size_guidance={'scalars': 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)]
            for tag in acc.Tags()['scalars']}


def test_event_file_has_losses_weights_lr_metrics_conflicts(run_dir):
    scalars = _scalars(run_dir)
    tags = set(scalars)
    for tag in ('loss', 'lr', 'seg.weight', 'depth.weight', 'normal.weight',
                'balancer/seg', 'seg/mIoU', 'depth/abs_rel', 'normal/mean'):
        assert tag in tags, sorted(tags)
    assert any(t.startswith('seg.loss') for t in tags), sorted(tags)
    assert any(t.startswith('depth.loss') for t in tags), sorted(tags)
    pairs = {f'grad_conflict/{a}~{b}'
             for a, b in itertools.combinations(['seg', 'depth', 'normal'],
                                                2)}
    assert pairs <= tags, sorted(tags)
    # 2 iterations, interval 1: measured after each
    for pair in pairs:
        assert [s for s, _ in scalars[pair]] == [1, 2]
        assert all(-1.0 <= v <= 1.0 for _, v in scalars[pair])
    # one value per iteration (LoggerHook interval 1): the weights the
    # balancer used, also under balancer/<task>
    assert [s for s, _ in scalars['loss']] == [1, 2]
    for task in ('seg', 'depth', 'normal'):
        assert [v for _, v in scalars[f'{task}.weight']] == pytest.approx(
            [v for _, v in scalars[f'balancer/{task}']], rel=1e-5)


def test_conflict_cosine_matches_autograd(run_dir):
    """The hook's cosine of one batch against per-task gradients taken one
    task at a time by torch.autograd.grad; BN statistics untouched."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mtlbox.engine.hooks.grad_conflict_hook import GradConflictHook
    from mtlbox.registry import MODELS
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(TINY)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    batch = next(iter(loader))
    before = {k: v.clone() for k, v in model.named_buffers()}
    got = GradConflictHook().measure(model, batch)
    for k, v in model.named_buffers():
        assert torch.equal(v, before[k]), k

    data = model.data_preprocessor(dict(batch), True)
    losses, _, _ = model._loss_and_features(data['inputs'],
                                            data['data_samples'])
    per_task = model.task_losses(losses)
    shared = model.shared_parameters()
    grads = {}
    for t in model.tasks:
        g = torch.autograd.grad(per_task[t], shared, retain_graph=True,
                                allow_unused=True)
        grads[t] = torch.cat([
            (x if x is not None else torch.zeros_like(p)).flatten()
            for x, p in zip(g, shared)]).double()
    for a, b in itertools.combinations(model.tasks, 2):
        want = float(torch.dot(grads[a], grads[b]) /
                     (grads[a].norm() * grads[b].norm()))
        assert got[f'grad_conflict/{a}~{b}'] == pytest.approx(want, abs=1e-5)


def test_loss_level_runs_are_skipped_by_default():
    from types import SimpleNamespace

    from mtlbox.engine.hooks.grad_conflict_hook import GradConflictHook
    model = SimpleNamespace(tasks=['a', 'b'], shared_parameters=list,
                            balancer=SimpleNamespace(needs='losses'))
    assert not GradConflictHook()._active(model)
    assert GradConflictHook(gradient_level_only=False)._active(model)
    model.balancer.needs = 'grads'
    assert GradConflictHook()._active(model)
