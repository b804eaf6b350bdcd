"""Every dataset config builds on its fixture and yields packed samples."""
import os.path as osp

import pytest
from mmengine import Config

from mtlbox.registry import DATA_SAMPLERS, DATASETS

CFG_DIR = osp.join(osp.dirname(__file__), '..', '..', 'configs', '_base_',
                   'datasets')

FIXTURE_OF = {
    'VOCMTLDataset': 'voc', 'NYUv2MTANDataset': 'nyuv2_mtan',
    'NYUDMTDataset': 'nyud_mt', 'NYUDepthListDataset': 'nyu_depth_list',
    'UnderwaterCocoDataset': 'duo', 'URPCDataset': 'urpc',
    'UIEBDataset': 'uieb', 'EUVPPairedDataset': 'euvp',
    'PascalContextMTDataset': 'pascal_context',
    'OfficeHomeDataset': 'office_home', 'Office31Dataset': 'office31',
    'MultiMNISTDataset': 'mnist', 'CIFAR10MTDataset': 'cifar10',
}
EXTRA = {
    'NYUDepthListDataset': dict(list_file='train.txt', img_root='',
                                depth_root=''),
    'URPCDataset': dict(split_file=None), 'UIEBDataset': dict(split_file=None),
    'EUVPPairedDataset': dict(subsets=None),
}


def _point_to_fixtures(cfg, make):
    if isinstance(cfg, dict):
        kind = cfg.get('type')
        if kind in FIXTURE_OF:
            truth = make(FIXTURE_OF[kind])
            cfg['data_root'] = truth['data_root']
            if kind == 'UnderwaterCocoDataset':
                cfg.update(ann_file=truth['ann_file'],
                           img_dir=truth['img_dir'])
            cfg.update(EXTRA.get(kind, {}))
        for value in cfg.values():
            _point_to_fixtures(value, make)
    elif isinstance(cfg, list):
        for value in cfg:
            _point_to_fixtures(value, make)


CONFIGS = sorted(f for f in __import__('os').listdir(CFG_DIR)
                 if f.endswith('.py') and f != 'synth_scenes.py')


@pytest.mark.parametrize('name', CONFIGS)
def test_config_builds_on_fixture(name, make):
    cfg = Config.fromfile(osp.join(CFG_DIR, name))
    loader = cfg.train_dataloader.to_dict()
    if name == 'toy_regression.py':
        loader['dataset']['num_samples'] = 8
    _point_to_fixtures(loader['dataset'], make)
    ds = DATASETS.build(loader['dataset'])
    out = ds[0]
    assert set(out) == {'inputs', 'data_samples'}
    sample = out['data_samples']
    assert sample.labeled_tasks
    sampler_cfg = dict(loader['sampler'])
    if sampler_cfg['type'] != 'DefaultSampler':
        sampler = DATA_SAMPLERS.build(sampler_cfg,
                                      default_args=dict(dataset=ds, seed=0))
        assert len(list(sampler)) == len(sampler)
