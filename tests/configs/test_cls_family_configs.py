"""Every config of the classification / auxiliary-learning family builds,
passes the config checks and trains two iterations on fixture data (the
real on-disk layouts from tools/data/make_fixture.py) or on the built-in
scikit-learn digits and toy-regression data."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper

from mtlbox.datasets.fixtures import write_fixture
from mtlbox.engine.hooks.balancer_hook import resolve_total_iters
from mtlbox.registry import DATASETS, MODELS
from mtlbox.utils import check_config_tasks, check_config_types

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', 'office_home', '*.py')) +
    glob.glob(osp.join(ROOT, 'configs', 'slgrad', '*.py')) +
    glob.glob(osp.join(ROOT, 'configs', 'synth', 'digits_*.py')))
#: config name prefix -> fixture written for its data_root
FIXTURE = {'office_home': 'office_home', 'multi_mnist': 'mnist',
           'cifar10_noise': 'cifar10', 'nyuv2': 'nyuv2_mtan'}
#: fixture -> (training range, held-out range) replacing sample_range
RANGES = {'mnist': ((0, 4), (4, 6)), 'cifar10': ((0, 16), (16, 20))}


def _name(path):
    return osp.relpath(path, osp.join(ROOT, 'configs'))


def _shrink(node, data_root, ranges, held_out=False):
    """Point data roots at the fixture, load in-process, small images."""
    if isinstance(node, dict):
        for key in list(node):
            value = node[key]
            if key == 'data_root' and data_root is not None:
                node[key] = data_root
            elif key == 'num_workers':
                node[key] = 0
            elif key == 'persistent_workers':
                node[key] = False
            elif key == 'batch_size':
                node[key] = 2
            elif key == 'sample_range' and ranges is not None:
                node[key] = ranges[1 if held_out else 0]
            elif (key == 'scale' and node.get('type') == 'MTLResize'):
                node[key] = (32, 32)
            else:
                _shrink(value, data_root, ranges,
                        held_out or key == 'val_dataloader')
    elif isinstance(node, (list, tuple)):
        for value in node:
            _shrink(value, data_root, ranges, held_out)


def _batches(dataset, size=4):
    """Two batches of ``size`` samples spread over the dataset (so every
    Office domain / every digit position appears)."""
    n = len(dataset)
    step = max(1, n // size)
    picks = [list(range(0, n, step))[:size],
             list(range(1, n, step))[:size]]
    return [pseudo_collate([dataset[i] for i in p]) for p in picks]


@pytest.mark.parametrize('path', CONFIGS, ids=_name)
def test_config_builds_and_trains(path, tmp_path):
    name = osp.basename(path)
    cfg = Config.fromfile(path)
    check_config_types(cfg)
    check_config_tasks(cfg)
    key = _name(path).replace('slgrad/', '')  # office_home/..., cifar10_...
    fixture = next((f for p, f in FIXTURE.items() if key.startswith(p)),
                   None)
    data_root = None
    if fixture is not None:
        data_root = write_fixture(fixture, str(tmp_path / fixture))[
            'data_root']
    _shrink(cfg._cfg_dict, data_root, RANGES.get(fixture))
    if name.startswith('toy_regression'):  # 10000 samples are not needed
        cfg.train_dataloader.dataset.num_samples = 16
        bal = cfg.model.balancer
        if 'val_dataloader' in bal:
            bal.val_dataloader.dataset.num_samples = 8

    # the 'auto' engine times both gradient engines on its first step; the
    # test needs one
    cfg.model.grad_engine = 'sequential'
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    tasks = list(cfg.model.heads)
    assert model.tasks == tasks
    before = [p.detach().clone() for p in model.shared_parameters()]
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-2))
    resolve_total_iters(model.balancer, 100)  # as BalancerHook does
    model.train()
    for batch in _batches(dataset):
        labeled = {t for s in batch['data_samples'] for t in s.labeled_tasks}
        assert labeled == set(tasks), (labeled, tasks)
        log = model.train_step(batch, optim)
        assert torch.isfinite(log['loss']), log
        for task in tasks:
            assert any(k.startswith(f'{task}.loss') for k in log), (task, log)
    changed = [not torch.equal(a, b.detach())
               for a, b in zip(before, model.shared_parameters())]
    assert any(changed), 'no shared parameter moved in two steps'

    model.eval()
    with torch.no_grad():
        out = model.val_step(_batches(dataset)[0])
    for task in tasks:
        assert f'pred_label_{task}' in out[0] or 'pred_sem_seg' in out[0]


def test_every_family_config_is_tested():
    names = {_name(p) for p in CONFIGS}
    balancers = ('gemtl', 'ew', 'uw', 'dwa', 'rlw', 'gls', 'mgda', 'pcgrad',
                 'cagrad', 'imtl', 'nash_mtl')
    for b in balancers:
        assert f'office_home/{b}_resnet18.py' in names
    for ds in ('toy_regression', 'multi_mnist', 'cifar10_noise'):
        for b in ('slgrad', 'ew', 'olaux', 'cagrad', 'gradnorm', 'pcgrad'):
            assert f'slgrad/{ds}_{b}.py' in names
    assert 'slgrad/nyuv2_slgrad_deeplab_r50.py' in names
    assert {'synth/digits_gemtl.py', 'synth/digits_slgrad.py'} <= names


def test_slgrad_configs_name_main_task_and_held_out_data():
    want = {'toy_regression': 't0', 'multi_mnist': 'left',
            'cifar10_noise': 'airplane', 'nyuv2': 'seg'}
    for path in CONFIGS:
        name = osp.basename(path)
        if 'slgrad' not in name:
            continue
        bal = Config.fromfile(path).model.balancer
        assert bal.type == 'SLGrad'
        prefix = next((p for p in want if name.startswith(p)), None)
        if prefix is not None:
            assert bal.main_task == want[prefix]
        else:
            assert bal.main_task == 'left'  # digits twin
        assert 'dataset' in bal.val_dataloader
    # the held-out ranges do not overlap the training ranges
    for path in ('slgrad/multi_mnist_slgrad.py',
                 'slgrad/cifar10_noise_slgrad.py', 'synth/digits_slgrad.py'):
        cfg = Config.fromfile(osp.join(ROOT, 'configs', path))
        train = cfg.train_dataloader.dataset.sample_range
        held = cfg.model.balancer.val_dataloader.dataset.sample_range
        assert train[1] <= held[0], path
