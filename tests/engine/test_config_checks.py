"""Config mistakes refused before training, naming the key (#13, #14)."""
import os.path as osp

import pytest
from mmengine.config import Config

from mtlbox.registry import UnknownTypeError
from mtlbox.utils.config_check import (ConfigOverrideError, ConfigValueError,
                                       check_config, check_config_labels,
                                       check_config_schedule,
                                       check_config_types,
                                       check_dataset_labels, load_config,
                                       warmup_outlasts_training)

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
FLAGSHIP = osp.join(ROOT, 'configs/seg_det_depth/amtl_effv2s.py')


def _with_backbone_init(init_cfg):
    cfg = Config.fromfile(FLAGSHIP)
    cfg.model.backbone.init_cfg = init_cfg
    return cfg


@pytest.mark.parametrize('init_cfg', [
    dict(type='Pretrained', checkpoint='weights/effv2s.pth'),
    dict(type='Pretrained', checkpoint='work_dirs/x/epoch_1.pth',
         prefix='backbone.'),
    dict(type='Kaiming', layer='Conv2d'),
    dict(type='Xavier', layer='Conv2d', distribution='uniform'),
    dict(type='Normal', std=0.01, layer='Conv2d'),
    [dict(type='Constant', val=1, layer='BatchNorm2d'),
     dict(type='Kaiming', layer='Conv2d',
          override=dict(name='stem', type='Normal', std=0.1))],
])
def test_every_mmengine_init_cfg_passes(init_cfg):
    check_config_types(_with_backbone_init(init_cfg))


def test_init_cfg_typo_names_key_and_initializer():
    cfg = _with_backbone_init([dict(type='Kaiming'),
                               dict(type='Pretrianed', checkpoint='w.pth')])
    with pytest.raises(UnknownTypeError) as err:
        check_config_types(cfg)
    message = str(err.value)
    assert 'model.backbone.init_cfg[1].type' in message
    assert "'Pretrained'" in message


def test_norm_cfg_type_is_the_modules_business():
    """``norm_cfg=dict(type='GN', ...)`` names a layer kind, not a
    registered class: the type check leaves it to the head (which refuses
    an unknown kind at build time, tests/models/heads), but still checks
    the head's own type next to it."""
    cfg = Config.fromfile(osp.join(
        ROOT, 'configs/synth/amtl_r18_det_seg_depth_synth.py'))
    cfg.model.heads.det.norm_cfg = dict(type='GN', num_groups=16)
    check_config_types(cfg)
    cfg.model.heads.det.type = 'ATSSDetHaed'
    with pytest.raises(UnknownTypeError, match='model.heads.det.type'):
        check_config_types(cfg)


@pytest.mark.parametrize('option, key, close', [
    ('model.balancer.gama', 'gama', 'model.balancer.gamma'),
    ('train_cfg.max_epoch', 'max_epoch', 'train_cfg.max_epochs'),
    ('model.heads.det.num_clases', 'num_clases',
     'model.heads.det.num_classes'),
    ('optim_wrapper.optimizer.weight_decy', 'weight_decy',
     'optim_wrapper.optimizer.weight_decay'),
    ('train_dataloader.batch_sise', 'batch_sise',
     'train_dataloader.batch_size'),
    ('img_scal', 'img_scal', 'img_scale'),
])
def test_override_typo_names_key_and_closest(option, key, close):
    with pytest.raises(ConfigOverrideError) as err:
        load_config(FLAGSHIP, {option: 3})
    assert repr(key) in str(err.value) and repr(close) in str(err.value)


def test_override_typo_below_a_new_key():
    with pytest.raises(ConfigOverrideError) as err:
        load_config(FLAGSHIP, {'model.backbone.init_cfg.type': 'Pretrained',
                               'model.backbone.init_cfg.chekpoint': 'w.pth'})
    assert "did you mean 'model.backbone.init_cfg.checkpoint'" in str(
        err.value)


def test_override_list_index_out_of_range():
    with pytest.raises(ConfigOverrideError, match='list of 2 entries'):
        load_config(FLAGSHIP, {'param_scheduler.5.end': 1})


def test_valid_overrides_still_apply():
    cfg = load_config(FLAGSHIP, {
        'model.balancer.type': 'PCGrad',  # an existing key
        'train_cfg.max_epochs': 5,
        'model.backbone.init_cfg.type': 'Pretrained',  # an argument
        'model.backbone.init_cfg.checkpoint': 'w.pth',
        'model.neck.num_repeats': 2,
        'val_dataloader.drop_last': False,
        'default_hooks.checkpoint.save_last': True,  # **kwargs
    })
    assert cfg.model.balancer.type == 'PCGrad'
    assert cfg.train_cfg.max_epochs == 5
    assert cfg.model.backbone.init_cfg == dict(type='Pretrained',
                                               checkpoint='w.pth')
    check_config_types(cfg)


def test_max_iters_on_an_epoch_loop_says_how():
    with pytest.raises(ConfigOverrideError, match='counts epochs'):
        load_config(FLAGSHIP, {'train_cfg.max_iters': 5})


def _pipelines(cfg):
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for source in cfg[loader].dataset.sources:
            yield loader, source


def test_one_variable_changes_the_input_size_and_roots_everywhere():
    default = Config.fromfile(FLAGSHIP)
    cfg = load_config(FLAGSHIP, {'img_scale': (320, 288),
                                 'voc_root': '/data/VOC2012/',
                                 'nyu_root': '/data/nyu/'})
    assert cfg.img_scale == (320, 288)
    n = 0
    for loader, source in _pipelines(cfg):
        resize = [t for t in source.pipeline if t.type == 'MTLResize']
        pad = [t for t in source.pipeline if t.type == 'MTLPad']
        assert [t.scale for t in resize] == [(320, 288)], loader
        # keep_ratio: the long side fits 320 in either orientation, so the
        # pad is a 320 square
        assert [t.size for t in pad] == [(320, 320)], loader
        root = '/data/VOC2012/' if source.source == 'VOC' else '/data/nyu/'
        assert source.data_root == root
        n += 1
    assert n == 6
    # nothing else moved
    for a, b in zip(_pipelines(default), _pipelines(cfg)):
        assert a[1].type == b[1].type and a[1].get('split') == b[1].get(
            'split')
    assert cfg.model == default.model


def test_top_level_variable_of_the_schedule():
    cfg = load_config(osp.join(ROOT, 'configs/synth/hps_r18_ew_synth.py'),
                      {'max_epochs': 3})
    assert cfg.train_cfg.max_epochs == 3
    assert cfg.param_scheduler[1].T_max == 3


def _partial_cfg(voc_tasks):
    cfg = Config.fromfile(FLAGSHIP)
    cfg.train_dataloader.dataset.tasks = dict(VOC=voc_tasks, NYU=['depth'])
    return cfg


def test_head_without_labelled_source_is_refused():
    with pytest.raises(ConfigValueError) as err:
        check_config(_partial_cfg(['seg']))
    message = str(err.value)
    assert "['det']" in message
    assert "VOC: ['seg']" in message and "NYU: ['depth']" in message
    assert check_config_labels(_partial_cfg(['det', 'seg'])) is True


def test_head_without_labelled_sample_in_built_dataset():
    from mtlbox.datasets import PartialMTLDataset
    # tasks=... says det, the data never has it: only the data can tell
    sources = [dict(type='SynthScenes', num_samples=4, img_size=(16, 16),
                    tasks=('det', 'seg', 'depth'),
                    label_prob=dict(det=0.0))]
    dataset = PartialMTLDataset(sources=sources)
    assert dataset.task_counts() == dict(seg=4, depth=4)
    cfg = Config(dict(model=dict(heads=dict(det={}, seg={}, depth={}))))
    with pytest.raises(ConfigValueError) as err:
        check_dataset_labels(cfg, dataset)
    assert "['det']" in str(err.value) and 'SynthScenes' in str(err.value)
    cfg = Config(dict(model=dict(heads=dict(seg={}, depth={}))))
    check_dataset_labels(cfg, dataset)


def _schedule(**changes):
    cfg = Config.fromfile(FLAGSHIP)
    for key, value in changes.items():
        node = cfg
        *parents, last = key.split('.')
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[last] = value
    return cfg


@pytest.mark.parametrize('changes, match', [
    ({'optim_wrapper.optimizer.lr': -1e-3}, 'lr=-0.001'),
    ({'optim_wrapper.optimizer.lr': float('nan')}, 'lr=nan'),
    ({'optim_wrapper.optimizer.lr': float('inf')}, 'lr=inf'),
    ({'train_cfg.max_epochs': 0}, 'max_epochs=0'),
    ({'train_cfg.max_epochs': -2}, 'max_epochs=-2'),
    ({'train_cfg.val_interval': 0}, 'val_interval=0'),
    ({'train_cfg.val_begin': 101}, 'val_begin=101'),
    ({'param_scheduler.0.begin': 10, 'param_scheduler.0.end': 5},
     'end=5 must be larger than begin=10'),
    ({'param_scheduler.1.begin': 200}, 'begin=200 is not inside'),
    ({'param_scheduler.0.by_epoch': True, 'param_scheduler.0.end': 150},
     'warm-up ends at 150 epochs'),
])
def test_impossible_schedule_is_refused(changes, match):
    with pytest.raises(ConfigValueError, match=match.replace('[', r'\[')):
        check_config_schedule(_schedule(**changes))


def test_possible_schedules_pass():
    check_config_schedule(_schedule())
    check_config_schedule(_schedule(**{'optim_wrapper.optimizer.lr': 0.0}))
    # longer than training: mmengine validates at the last epoch
    check_config_schedule(_schedule(**{'train_cfg.val_interval': 500}))


def test_iteration_warmup_longer_than_epoch_training_is_warned_of():
    cfg = _schedule(**{'train_cfg.max_epochs': 2})  # LinearLR end=1000
    message = warmup_outlasts_training(cfg, iters_per_epoch=400)
    assert 'ends at iteration 1000' in message and '2 epochs x 400' in message
    assert warmup_outlasts_training(cfg, iters_per_epoch=500) is None
