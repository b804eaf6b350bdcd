"""Task names of the classification-family datasets: ``labeled_tasks``
holds the real task names (domains, digit positions, CIFAR classes, toy
regression tasks) and the base configs' pipelines pack them."""
import os.path as osp

import numpy as np
import pytest
from dataset_helpers import LOAD, PACK
from mmengine.config import Config

from mtlbox.datasets import (CIFAR10MTDataset, MultiMNISTDataset,
                             Office31Dataset, OfficeHomeDataset,
                             ToyRegressionDataset)
from mtlbox.datasets.cifar_mt import CIFAR_CLASSES
from mtlbox.registry import DATASETS

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def pack(tasks):
    return dict(PACK, task_map={t: 'cls' for t in tasks})


@pytest.mark.parametrize('name,cls', [('office_home', OfficeHomeDataset),
                                      ('office31', Office31Dataset)])
def test_office_domain_is_the_task(make, name, cls):
    t = make(name)
    ds = cls(data_root=t['data_root'], pipeline=LOAD + [pack(cls.DOMAINS)])
    seen = {}
    for i in range(len(ds)):
        s = ds[i]['data_samples']
        assert s.labeled_tasks == [s.source]
        assert s.is_labeled(s.source)
        assert not any(s.is_labeled(d) for d in cls.DOMAINS if d != s.source)
        seen.setdefault(s.source, []).append(s.gt_label.label.tolist())
    # every domain's labels, in list-file order
    assert seen == {d: [[lab] for _, lab in t['lists'][d]]
                    for d in cls.DOMAINS}
    legacy = cls(data_root=t['data_root'], label_task='cls',
                 pipeline=LOAD + [PACK])
    assert legacy[0]['data_samples'].labeled_tasks == ['cls']


def test_office_domains_pack_without_a_config_task_map(make):
    """The dataset carries ``task_map={domain: 'cls'}``; a config mapping
    wins over it (here to a kind whose label the sample lacks)."""
    t = make('office31')
    ds = Office31Dataset(data_root=t['data_root'], pipeline=LOAD + [PACK])
    sample = ds[0]['data_samples']
    domain = sample.metainfo['task_name']
    assert sample.labeled_tasks == [domain] and 'gt_label' in sample
    wrong = Office31Dataset(data_root=t['data_root'], pipeline=LOAD + [
        dict(PACK, task_map={d: 'seg' for d in Office31Dataset.DOMAINS})])
    with pytest.raises(KeyError, match="labelled for 'seg'"):
        wrong[0]


def test_multi_mnist_left_right(make):
    t = make('mnist')
    ds = MultiMNISTDataset(data_root=t['data_root'], seed=0,
                           pipeline=[pack(('left', 'right'))])
    _, labels = t['train']
    perm = np.random.default_rng(0).permutation(6)
    for i in range(len(ds)):
        s = ds[i]['data_samples']
        assert s.labeled_tasks == ['left', 'right']
        assert s.gt_label.label.tolist() == [labels[i], labels[perm[i]]]
    part = MultiMNISTDataset(data_root=t['data_root'], seed=0,
                             sample_range=(4, 6))
    assert len(part) == 2
    assert [part.get_data_info(k)['gt_label'] for k in range(2)] == [
        [int(labels[i]), int(labels[perm[i]])] for i in (4, 5)]
    assert MultiMNISTDataset(data_root=t['data_root'], label_task='cls'
                             ).get_data_info(0)['labeled_tasks'] == ['cls']
    with pytest.raises(ValueError, match='sample_range'):
        MultiMNISTDataset(data_root=t['data_root'], sample_range=(3, 1))


def test_cifar_one_vs_rest_task_names(make):
    t = make('cifar10')
    ds = CIFAR10MTDataset(data_root=t['data_root'], noise_p=0.5, seed=2,
                          noisy_tasks='main', main_task='cat',
                          pipeline=[pack(CIFAR_CLASSES)])
    assert CIFAR_CLASSES[3] == 'cat'
    batches = [t['batches'][f'data_batch_{b}'][1] for b in range(1, 6)]
    classes = np.concatenate(batches)
    for i in range(len(ds)):
        s = ds[i]['data_samples']
        assert s.labeled_tasks == list(CIFAR_CLASSES)
        info = ds.get_data_info(i)
        clean = [int(c == classes[i]) for c in range(10)]
        assert info['clean_label'] == clean
        assert s.gt_label.label.tolist() == info['gt_label']
        # only the main task ('cat', entry 3) may be flipped
        assert set(np.flatnonzero(info['noisy_mask'])) <= {3}
    # a range keeps each image's labels and noise (drawn for the split)
    part = CIFAR10MTDataset(data_root=t['data_root'], noise_p=0.5, seed=2,
                            noisy_tasks='main', main_task='cat',
                            sample_range=(16, 20),
                            pipeline=[pack(CIFAR_CLASSES)])
    assert len(part) == 4
    for k in range(4):
        a, b = part.get_data_info(k), ds.get_data_info(16 + k)
        assert a['gt_label'] == b['gt_label']
        np.testing.assert_array_equal(part[k]['inputs'], ds[16 + k]['inputs'])
    with pytest.raises(KeyError, match='main_task'):
        CIFAR10MTDataset(data_root=t['data_root'], main_task='plane')


def test_toy_regression_task_names():
    ds = ToyRegressionDataset(num_samples=4, in_dim=3, out_dim=2,
                              sigmas=(1.0, 2.0, 3.0),
                              task_names=('main', 'aux1', 'aux2'),
                              pipeline=[dict(type='PackVectorInputs')])
    s = ds[0]['data_samples']
    assert s.labeled_tasks == ['main', 'aux1', 'aux2']
    assert s.gt_label.values.shape == (3, 2)


@pytest.mark.parametrize('config,fixture,tasks', [
    ('office_home.py', 'office_home', OfficeHomeDataset.DOMAINS),
    ('office31.py', 'office31', Office31Dataset.DOMAINS),
    ('multi_mnist.py', 'mnist', ('left', 'right')),
    ('cifar10_mt.py', 'cifar10', CIFAR_CLASSES),
])
def test_base_config_packs_task_names(make, config, fixture, tasks):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'datasets',
                                   config))
    t = make(fixture)
    cfg.train_dataloader.dataset.data_root = t['data_root']
    ds = DATASETS.build(cfg.train_dataloader.dataset)
    labeled = set()
    for i in range(len(ds)):
        s = ds[i]['data_samples']
        labeled.update(s.labeled_tasks)
        assert 'gt_label' in s
    assert labeled == set(tasks)
