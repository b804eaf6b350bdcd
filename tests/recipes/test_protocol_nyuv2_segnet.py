"""NYUv2 in the MTAN protocol (configs/nyuv2_segnet/): the SegNet models
match the reference's parameter count, and a recipe trains two iterations
with validation on the test split, then tests its checkpoint, on tiny MTAN
``.npy`` arrays written here (not by mtlbox's fixture generator).

Reference counts, from lorenmt/mtan ``im2im_pred/model_segnet_{split,mtan}
.py`` (``count_parameters`` = every trainable parameter, its 3 uncertainty
weights ``logsigma`` included): split 25,055,188, MTAN 44,229,076. mtlbox
keeps the uncertainty weights in the ``UW`` balancer, so the models here
have 3 fewer.
"""
import math
import os
import os.path as osp

import numpy as np
import pytest

from . import recipe_runner as tools

REF_SPLIT, REF_MTAN, REF_LOGSIGMA = 25_055_188, 44_229_076, 3
REF_SHARED_SEGNET = 24_943_296  # encoder 14,723,136 + decoder 10,220,160
CONFIGS = sorted(f for f in os.listdir(osp.join(tools.ROOT,
                                                'configs/nyuv2_segnet'))
                 if f.endswith('.py'))
BASELINE_ROW = [0.3830, 0.6376, 0.6754, 0.2780, 25.01, 19.21, 0.3014,
                0.5720, 0.6915]
KEYS = ['seg/mIoU', 'seg/aAcc', 'depth/abs_err', 'depth/abs_rel',
        'normal/mean', 'normal/median', 'normal/11.25', 'normal/22.5',
        'normal/30']
HIGHER = [True, True, False, False, False, False, True, True, True]


def build_model(config, **cfg_options):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from mtlbox.registry import MODELS
    cfg = Config.fromfile(osp.join(tools.ROOT, config))
    cfg.merge_from_dict(cfg_options)
    name = f'protocol_count_{len(DefaultScope._instance_dict)}'
    with DefaultScope.overwrite_default_scope('mtlbox'):
        DefaultScope.get_instance(name, scope_name='mtlbox')
        return MODELS.build(cfg.model)


def count(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def test_segnet_parameter_counts_match_the_reference():
    mtan = build_model('configs/nyuv2_segnet/ew_segnet_mtan.py')
    assert count(mtan) == REF_MTAN - REF_LOGSIGMA == 44_229_073
    assert count(mtan.backbone) == REF_SHARED_SEGNET
    # per head: 3x3 conv 64->64 + 1x1 conv 64->C, with biases
    assert {t: count(h) for t, h in mtan.heads.items()} == dict(
        seg=9 * 64 * 64 + 64 + 65 * 13, depth=9 * 64 * 64 + 64 + 65,
        normal=9 * 64 * 64 + 64 + 65 * 3)
    # gradient balancers see SegNet + the shared attention convs as shared
    shared = sum(p.numel() for p in mtan.shared_parameters())
    assert shared == REF_SHARED_SEGNET + 10_220_160
    split = build_model('configs/nyuv2_segnet/ew_segnet_split.py')
    assert count(split) == REF_SPLIT - REF_LOGSIGMA == 25_055_185
    # the UW balancer adds the reference's three log-variances
    uw = build_model('configs/nyuv2_segnet/uw_segnet_mtan.py')
    assert count(uw) == REF_MTAN


@pytest.mark.parametrize('config', CONFIGS)
def test_every_balancer_config_resolves(config):
    from mmengine.config import Config

    import mtlbox.balancers  # noqa: F401 (registers them)
    from mtlbox.registry import BALANCERS as REGISTRY
    cfg = Config.fromfile(osp.join(tools.ROOT, 'configs/nyuv2_segnet',
                                   config))
    assert REGISTRY.get(cfg.model.balancer.type) is not None
    assert cfg.train_cfg.max_epochs == 200 and cfg.train_cfg.val_interval == 1
    assert cfg.train_dataloader.batch_size == 2
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=1e-4)
    assert cfg.param_scheduler[0].step_size == 100
    assert cfg.param_scheduler[0].gamma == 0.5
    assert cfg.val_dataloader.dataset.split == 'val'  # the test images
    assert cfg.val_evaluator.baselines == 'published:nyuv2_segnet_mtan'


def write_nyuv2_npy(root, sizes, seed):
    """``<root>/{train,val}/{image,label,depth,normal}/<i>.npy`` as the MTAN
    preprocessing stores them: image HxWx3 float RGB in [0, 1], label HxW
    float 0..12 with -1 void, depth HxWx1 with 0 missing, normal HxWx3 unit
    vectors with all-zero missing."""
    rng = np.random.default_rng(seed)
    for split, shapes in sizes.items():
        for i, (h, w) in enumerate(shapes):
            arrays = dict(
                image=rng.random((h, w, 3), dtype=np.float32),
                label=rng.integers(-1, 13, (h, w)).astype(np.float32),
                depth=rng.uniform(0.5, 8.0, (h, w, 1)).astype(np.float32),
                normal=rng.normal(size=(h, w, 3)).astype(np.float32))
            arrays['depth'][:3] = 0.0
            arrays['normal'] /= np.linalg.norm(arrays['normal'], axis=-1,
                                               keepdims=True)
            arrays['normal'][-2:] = 0.0
            for name, arr in arrays.items():
                os.makedirs(osp.join(root, split, name), exist_ok=True)
                np.save(osp.join(root, split, name, f'{i}.npy'), arr)


def tiny_overrides(root, batch=2, tasks=('seg', 'depth', 'normal'),
                   attention=True):
    """Two iterations on ``root``; SegNet 8x narrower (the full widths are
    counted above; a 44M-parameter checkpoint with its Adam state would
    cost most of the test's time)."""
    widths = (8, 16, 32, 64, 64)
    o = {'model.backbone.widths': widths,
         **{f'model.heads.{t}.in_channels': 8 for t in tasks},
         'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1,
         'default_hooks.logger.interval': 1,
         'default_hooks.checkpoint.interval': 1}
    for name in ('train', 'val', 'test'):
        o.update({f'{name}_dataloader.batch_size': batch,
                  f'{name}_dataloader.num_workers': 0,
                  f'{name}_dataloader.persistent_workers': False,
                  f'{name}_dataloader.dataset.data_root': root})
    if attention:
        o['model.architecture.widths'] = widths
    return o


def paper_delta_m(metrics):
    """Nash-MTL / FAMO Delta_m in %, lower is better, worked out here."""
    terms = [(-1 if h else 1) * (metrics[k] - b) / b
             for k, b, h in zip(KEYS, BASELINE_ROW, HIGHER)]
    return 100 * sum(terms) / len(terms)


@pytest.mark.parametrize('config', [
    'configs/nyuv2_segnet/nash_mtl_segnet_mtan.py',
    'configs/nyuv2_segnet/ew_segnet_split.py'])
def test_nyuv2_segnet_recipe_two_iterations(config, tmp_path):
    root = str(tmp_path / 'nyuv2')
    # 4 train images (2 iterations of batch 2), 2 test images; 72x88 is no
    # multiple of 32 (padded for SegNet's five poolings, cropped back)
    write_nyuv2_npy(root, {'train': [(64, 96), (72, 88), (64, 96),
                                     (64, 96)],
                           'val': [(64, 96), (72, 88)]}, seed=0)
    overrides = tiny_overrides(root, attention='mtan' in config)
    work = str(tmp_path / 'work')
    tools.train(config, work, overrides)
    ckpt = osp.join(work, 'epoch_1.pth')
    meta = tools.checkpoint_meta(ckpt)
    assert meta['epoch'] == 1 and meta['iter'] == 2
    metrics = tools.test(config, ckpt, str(tmp_path / 'test_work'),
                         str(tmp_path / 'metrics.json'),
                         str(tmp_path / 'show'), overrides)
    for key in KEYS + ['mtl/delta_m', 'mtl/delta_m_paper']:
        assert key in metrics and math.isfinite(metrics[key]), key
    assert metrics['mtl/delta_m_paper'] == pytest.approx(
        paper_delta_m(metrics), abs=1e-6)
    assert metrics['mtl/delta_m_paper'] == pytest.approx(
        -metrics['mtl/delta_m_metric_avg'], abs=1e-9)
    # the validation of the epoch (on the test split) logged the same values
    from tests.recipes.test_seed_recipes import val_metrics
    validated = val_metrics(tools.latest_log(work), 1)
    assert validated['seg/mIoU'] == pytest.approx(metrics['seg/mIoU'],
                                                  abs=1e-4)
