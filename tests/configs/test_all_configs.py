"""Every detection/dense-task config builds, passes the config checks and
trains a step on a fabricated partially labelled batch (real datasets are
not on the CI machine); the SynthScenes twins train from their own data.
The classification/auxiliary family is covered by test_cls_family_configs.
"""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper
from mmengine.structures import InstanceData, LabelData, PixelData

from mtlbox.engine.hooks.balancer_hook import resolve_total_iters
from mtlbox.registry import DATASETS, MODELS
from mtlbox.structures import MTLDataSample
from mtlbox.utils import check_config_tasks, check_config_types

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
FAMILIES = ('seg_det_depth', 'nyuv2', 'squadnet', 'underwater')
CONFIGS = sorted(p for f in FAMILIES
                 for p in glob.glob(osp.join(ROOT, 'configs', f, '*.py')))
TWINS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', 'synth',
                                             '*.py'))
               if not osp.basename(p).startswith('digits_'))
SIZE = 64


def _label(head_cfg, task, g):
    kind = head_cfg['type']
    h = w = SIZE
    if kind in ('SegHead', 'PartsHead'):
        field = 'gt_sem_seg' if kind == 'SegHead' else 'gt_parts'
        n = head_cfg.get('num_classes', 2)
        return field, PixelData(data=torch.randint(0, n, (1, h, w),
                                                   generator=g))
    if kind == 'DepthHead':
        return 'gt_depth', PixelData(data=torch.rand(1, h, w, generator=g) +
                                     0.5)
    if kind == 'NormalHead':
        n = torch.randn(3, h, w, generator=g)
        return 'gt_normal', PixelData(data=n / n.norm(dim=0, keepdim=True))
    if kind in ('SaliencyHead', 'EdgeHead'):
        field = 'gt_saliency' if kind == 'SaliencyHead' else 'gt_edge'
        return field, PixelData(data=torch.randint(0, 2, (1, h, w),
                                                   generator=g))
    if kind == 'EnhanceHead':
        return 'gt_clean_img', PixelData(data=torch.randint(
            0, 255, (3, h, w), generator=g, dtype=torch.uint8))
    if kind == 'ATSSDetHead':
        inst = InstanceData()
        inst.bboxes = torch.tensor([[4., 6., 30., 40.], [20., 10., 60., 50.]])
        inst.labels = torch.tensor([0, head_cfg['num_classes'] - 1])
        inst.ignore_flags = torch.zeros(2, dtype=torch.bool)
        return 'gt_instances', inst
    if kind == 'ClsHead':
        return 'gt_label', LabelData(label=torch.tensor([0]))
    raise AssertionError(f'no fabricated label for {kind} ({task})')


def fabricated_batch(model_cfg, seed=0):
    """Two samples: the first labelled for every task, the second for the
    first task only (a partially annotated batch)."""
    g = torch.Generator().manual_seed(seed)
    tasks = list(model_cfg['heads'])
    inputs, samples = [], []
    for labelled in (tasks, tasks[:1]):
        inputs.append(torch.randint(0, 255, (3, SIZE, SIZE), generator=g,
                                    dtype=torch.uint8))
        sample = MTLDataSample(metainfo=dict(
            img_shape=(SIZE, SIZE), ori_shape=(SIZE, SIZE),
            scale_factor=(1.0, 1.0), labeled_tasks=list(labelled)))
        for task in labelled:
            field, value = _label(model_cfg['heads'][task], task, g)
            setattr(sample, field, value)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def _checked(path):
    cfg = Config.fromfile(path)
    check_config_types(cfg)
    check_config_tasks(cfg)
    return cfg


def _train_step(model, data):
    model.grad_engine = 'sequential'
    resolve_total_iters(model.balancer, 100)  # as BalancerHook does
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-3))
    before = [p.detach().clone() for p in model.shared_parameters()]
    logs = model.train_step(data, optim)
    assert torch.isfinite(logs['loss']), logs
    moved = sum(not torch.equal(a, p)
                for a, p in zip(before, model.shared_parameters()))
    assert moved > 0


@pytest.mark.parametrize('path', CONFIGS,
                         ids=lambda p: osp.relpath(p, ROOT))
def test_config_builds_and_trains_a_step(path):
    cfg = _checked(path)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    _train_step(model, fabricated_batch(cfg.model))


@pytest.mark.parametrize('path', TWINS, ids=lambda p: osp.relpath(p, ROOT))
def test_synthetic_twin_trains_on_its_own_data(path):
    cfg = _checked(path)
    ds_cfg = cfg.train_dataloader.dataset.copy()
    ds_cfg.num_samples = 4
    ds_cfg.img_size = (48, 64)
    dataset = DATASETS.build(ds_cfg)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    _train_step(model, pseudo_collate([dataset[i] for i in range(4)]))
