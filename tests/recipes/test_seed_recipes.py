"""Every seed experiment end to end, on data in the official on-disk formats.

For each seed config: ``tools/train.py`` for one tiny epoch (batch 2, about
4 images, validation on), ``tools/test.py --out --show-dir`` on its
checkpoint, then ``tools/train.py --resume`` for one more epoch. The data
are written by :mod:`tests.recipes.formats` (not by mtlbox's fixture
generator), with image sizes and aspect ratios unlike the configs' input
sizes and mixed within a split, so the pipelines' resizing, padding and the
metrics' frame handling meet what real data look like.

The overrides are what a user types into ``--cfg-options``. Where a config
builds its pipelines from one variable (``img_scale``) the pipeline still
holds a copy of the value, so a small input size needs list-index keys
(``...pipeline.2.scale``); they are listed per recipe below.
"""
import math
import os
import os.path as osp
import re

import cv2
import pytest

from . import formats
from . import recipe_runner as tools

FRAME_FIX = '/tmp/mtlbox_frame_fix_done'


@pytest.fixture(scope='session')
def data(tmp_path_factory):
    """Every format written once per session: {name: root}."""
    root = str(tmp_path_factory.mktemp('recipe_data'))
    written = formats.write_all(root)
    return {name: w['root'] for name, w in written.items()}


def loaders(batch=2, names=('train', 'val', 'test')):
    out = {}
    for name in names:
        out.update({f'{name}_dataloader.batch_size': batch,
                    f'{name}_dataloader.num_workers': 0,
                    f'{name}_dataloader.persistent_workers': False})
    return out


def one_epoch(val_interval=1):
    return {'train_cfg.max_epochs': 1, 'train_cfg.val_interval': val_interval,
            'default_hooks.logger.interval': 1}


def per_loader(fmt: dict, names=('train', 'val', 'test')):
    """``fmt`` keys with ``{loader}`` expanded for every dataloader."""
    return {k.format(loader=n): v for n in names for k, v in fmt.items()}


# ---------------------------------------------------------------- recipes
def flagship(d):
    """AMTL, VMM EfficientNet-V2-S, VOC2012 (det + seg) + NYU list (depth)."""
    o = dict(loaders(), **one_epoch())
    o['train_dataloader.sampler.batch_size'] = 2
    o['train_dataloader.sampler.num_batches'] = 2
    for name in ('train', 'val', 'test'):
        for k, root in ((0, d['voc']), (1, d['nyu_depth'])):
            src = f'{name}_dataloader.dataset.sources.{k}'
            o[f'{src}.data_root'] = root
            # list-index keys: 'common' = [MTLResize, MTLPad] after loading
            o[f'{src}.pipeline.2.scale'] = (128, 128)
            o[f'{src}.pipeline.3.size'] = (128, 128)
    return o


def nyuv2(d):
    """GeMTL (seed 000), DeepLab ResNet-50, NYUv2 mtan .npy (no resize:
    the images' own mixed sizes go in)."""
    o = dict(loaders(), **one_epoch())
    o.update(per_loader({'{loader}_dataloader.dataset.data_root':
                         d['nyuv2']}))
    return o


def office_home(d):
    """GeMTL, ResNet-18, Office-Home (domains as tasks)."""
    o = dict(loaders(), **one_epoch())
    o.update(per_loader({'{loader}_dataloader.dataset.data_root':
                         d['office_home'],
                         # list-index key: MTLResize after loading
                         '{loader}_dataloader.dataset.pipeline.1.scale':
                         (64, 64)}))
    return o


def squadnet_nyud(d):
    """SquadNet-base, NYUD-MT seg + depth (test: no resize, mixed sizes)."""
    o = dict(loaders(), **one_epoch())
    o.update(per_loader({'{loader}_dataloader.dataset.data_root':
                         d['nyud_mt']}))
    # list-index keys: MTLResize and MTLRandomCrop of the train pipeline
    o['train_dataloader.dataset.pipeline.2.scale'] = (160, 120)
    o['train_dataloader.dataset.pipeline.3.crop_size'] = (96, 128)
    return o


def squadnet_pascal(d):
    """SquadNet-base, PASCAL-Context seg + parts + saliency + normals."""
    o = dict(loaders(), **one_epoch())
    o.update(per_loader({'{loader}_dataloader.dataset.data_root':
                         d['pascal']}))
    # list-index keys: MTLResize, MTLRandomCrop, MTLPad (train); MTLPad
    o['train_dataloader.dataset.pipeline.2.scale'] = (96, 96)
    o['train_dataloader.dataset.pipeline.3.crop_size'] = (96, 96)
    o['train_dataloader.dataset.pipeline.6.size'] = (96, 96)
    for name in ('val', 'test'):  # the images are at most 120 a side
        o[f'{name}_dataloader.dataset.pipeline.2.size'] = (128, 128)
    return o


def underwater(d, det_root='duo'):
    """SquadNet-base, DUO (COCO JSON, det) + UIEB (enhance), partial."""
    o = dict(loaders(), **one_epoch())
    o['train_dataloader.sampler.batch_size'] = 2
    o['train_dataloader.sampler.num_batches'] = 2
    for name in ('train', 'val', 'test'):
        for k, root in ((0, d[det_root]), (1, d['uieb'])):
            src = f'{name}_dataloader.dataset.sources.{k}'
            o[f'{src}.data_root'] = root
            # list-index keys: 'common' = [MTLResize, MTLPad] after loading
            o[f'{src}.pipeline.2.scale'] = (96, 96)
            o[f'{src}.pipeline.3.size'] = (96, 96)
    return o


def underwater_ruod(d):
    """HPS ResNet-18 on RUOD (10 classes, its own folders) + UIEB."""
    o = underwater(d, det_root='ruod')
    for name in ('train', 'val', 'test'):
        split = 'train' if name == 'train' else 'test'
        src = f'{name}_dataloader.dataset.sources.0'
        o[f'{src}.ann_file'] = f'RUOD_ANN/instances_{split}.json'
        o[f'{src}.img_dir'] = f'RUOD_pic/{split}'
        o[f'{src}.source'] = 'RUOD'
    o['train_dataloader.sampler.ratios'] = 'balanced'
    o['model.heads.det.num_classes'] = 10
    o['val_evaluator.0.num_classes'] = 10
    o['test_evaluator.0.num_classes'] = 10
    return o


def slgrad_cifar(d):
    """SLGrad (seed 002), ResNet-18, CIFAR-10 pickles, 10 one-vs-rest."""
    o = dict(loaders(), **one_epoch())
    o.update(per_loader({'{loader}_dataloader.dataset.data_root':
                         d['cifar10']}))
    bal = 'model.balancer.val_dataloader'
    o.update({'train_dataloader.dataset.sample_range': (0, 4),
              f'{bal}.dataset.data_root': d['cifar10'],
              f'{bal}.dataset.sample_range': (16, 20),
              f'{bal}.batch_size': 2})
    return o


def slgrad_mnist(d):
    """SLGrad, SmallConvNet, Multi-MNIST from the idx files."""
    o = dict(loaders(), **one_epoch())
    o.update(per_loader({'{loader}_dataloader.dataset.data_root':
                         d['mnist']}))
    bal = 'model.balancer.val_dataloader'
    o.update({'train_dataloader.dataset.sample_range': (0, 4),
              f'{bal}.dataset.data_root': d['mnist'],
              f'{bal}.dataset.sample_range': (4, 8),
              f'{bal}.batch_size': 2})
    return o


def slgrad_toy(d):
    """SLGrad, MLP, toy regression (generated, no files)."""
    o = dict(loaders(), **one_epoch())
    o.update(per_loader({'{loader}_dataloader.dataset.num_samples': 4}))
    bal = 'model.balancer.val_dataloader'
    o.update({f'{bal}.dataset.num_samples': 4, f'{bal}.batch_size': 2})
    return o


# (id, config, overrides, metric keys that must be present, test images)
RECIPES = [
    ('flagship', 'configs/seg_det_depth/amtl_effv2s.py', flagship,
     ['det/mAP', 'seg/mIoU', 'depth/abs_rel', 'depth/delta1',
      'mtl/delta_m', 'mtl/amtl_score'], 4 + 2),
    ('nyuv2', 'configs/nyuv2/gemtl_deeplab_r50.py', nyuv2,
     ['seg/mIoU', 'depth/abs_rel', 'normal/mean', 'normal/11.25'], 3),
    ('office_home', 'configs/office_home/gemtl_resnet18.py', office_home,
     ['Art/top1', 'Clipart/top1', 'Product/top1',
      'Real_World/top1'], 4),
    ('squadnet_nyud', 'configs/squadnet/squadnet_base_nyud_mt.py',
     squadnet_nyud, ['seg/mIoU', 'depth/abs_rel'], 3),
    ('squadnet_pascal', 'configs/squadnet/squadnet_base_pascal_context.py',
     squadnet_pascal, ['seg/mIoU', 'parts/mIoU', 'saliency/maxF',
                       'normal/mean'], 3),
    ('underwater_duo', 'configs/underwater/squadnet_det_enhance.py',
     underwater, ['det/coco_AP', 'det/coco_AP50', 'enhance/psnr'], 3 + 2),
    ('underwater_ruod', 'configs/underwater/hps_r18_det_enhance.py',
     underwater_ruod, ['det/coco_AP', 'enhance/psnr'], 2 + 2),
    ('slgrad_cifar', 'configs/slgrad/cifar10_noise_slgrad.py', slgrad_cifar,
     ['airplane/top1', 'truck/top1'], 4),
    ('slgrad_mnist', 'configs/slgrad/multi_mnist_slgrad.py', slgrad_mnist,
     ['left/top1', 'right/top1'], 4),
    ('slgrad_toy', 'configs/slgrad/toy_regression_slgrad.py', slgrad_toy,
     ['t0/mse', 't1/mse'], 0),  # vectors: no panels
]
# recipes whose validation compares dense / box labels with predictions in
# the original image frame (the frame fix, see FRAME_FIX)
NEEDS_FRAME_FIX = {'flagship', 'nyuv2', 'squadnet_nyud', 'squadnet_pascal',
                   'underwater_duo', 'underwater_ruod'}


def val_metrics(log: str, epoch: int) -> dict:
    """The metrics of the last ``Epoch(val) [epoch]`` summary line."""
    lines = [ln for ln in log.splitlines()
             if f'Epoch(val) [{epoch}]' in ln and '/' in ln.split(']')[-1]]
    assert lines, f'no validation summary of epoch {epoch} in the log'
    found = re.findall(r'(\S+/\S+): (-?[0-9.]+(?:e[-+]?[0-9]+)?|nan|inf)',
                       lines[-1])
    return {k: float(v) for k, v in found}


def _params():
    out = []
    for rid, config, overrides, keys, n_test in RECIPES:
        marks = []
        if rid in NEEDS_FRAME_FIX and not osp.exists(FRAME_FIX):
            marks.append(pytest.mark.skip(
                reason='validation in the original frame not landed yet '
                f'({FRAME_FIX} missing)'))
        out.append(pytest.param(config, overrides, keys, n_test, id=rid,
                                marks=marks))
    return out


@pytest.mark.parametrize('config,make_overrides,keys,n_test', _params())
def test_seed_recipe(config, make_overrides, keys, n_test, data, tmp_path):
    overrides = make_overrides(data)
    work = str(tmp_path / 'work')

    # 1. train one epoch, validating at its end
    tools.train(config, work, overrides)
    first = osp.join(work, 'epoch_1.pth')
    assert osp.isfile(first), sorted(os.listdir(work))
    meta = tools.checkpoint_meta(first)
    iters = meta['iter']
    assert meta['epoch'] == 1 and iters >= 1
    log = tools.latest_log(work)
    validated = val_metrics(log, 1)
    for key in keys:
        assert key in validated, f'{key} not validated: {sorted(validated)}'

    # 2. test the checkpoint: metrics to --out, one panel per image
    out = str(tmp_path / 'metrics.json')
    show = tmp_path / 'show'
    metrics = tools.test(config, first, str(tmp_path / 'test_work'), out,
                   str(show), overrides)
    missing = [k for k in keys if k not in metrics]
    assert not missing, f'{missing} not in {sorted(metrics)}'
    bad = {k: v for k, v in metrics.items() if not math.isfinite(v)}
    assert not bad, f'non-finite metrics {bad}'
    # the checkpoint reproduces the validation of the epoch that saved it
    # (same weights, EMA included; the log prints 4 decimals)
    for key, value in validated.items():
        if math.isfinite(value):
            assert metrics[key] == pytest.approx(value, abs=1e-4), key
    panels = sorted(show.iterdir())
    assert len(panels) == n_test, [p.name for p in panels]
    for panel in panels:  # two rows of tiles 192 high (every image is
        img = cv2.imread(str(panel))  # lower) under an 18-pixel title bar,
        # and a footer of legends / colour bars of a few 14-pixel lines
        assert img is not None, panel.name
        assert 2 * 192 + 18 <= img.shape[0] <= 2 * 192 + 18 + 120, \
            (panel.name, img.shape)

    # 3. resume from the saved epoch for one more
    tools.train(config, work, dict(overrides, **{'train_cfg.max_epochs': 2}),
                resume=True)
    log = tools.latest_log(work)
    assert f'resumed epoch: 1, iter: {iters}' in log
    assert 'Epoch(train) [1]' not in log  # epoch 1 was not trained again
    meta2 = tools.checkpoint_meta(osp.join(work, 'epoch_2.pth'))
    assert meta2['epoch'] == 2 and meta2['iter'] == 2 * iters
