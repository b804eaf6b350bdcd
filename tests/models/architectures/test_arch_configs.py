"""The base model configs of this issue build and run (tiny inputs)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

ROOT = osp.join(osp.dirname(__file__), '..', '..', '..')
MODELS_DIR = osp.join(ROOT, 'configs', '_base_', 'models')

#: config -> overrides that keep the test small
CONFIGS = {
    'squadnet_small.py': dict(backbone=dict(channels=4, depths=(1, 1, 1)),
                              heads=dict(seg=dict(in_channels=[48]),
                                         depth=dict(in_channels=[48]))),
    'nosquadnet_base.py': dict(backbone=dict(channels=4, depths=(1, 1, 1)),
                               heads=dict(seg=dict(in_channels=[48]),
                                          depth=dict(in_channels=[48]))),
    'mtan_r18_fpn.py': {},
    'mmoe_r18_fpn.py': {},
    'cross_stitch_r18.py': {},
    'nddr_r18.py': {},
    'deeplab_r50.py': {},
    'deeplab_r50_shared_aspp.py': {},
    'vmm_effv2s.py': {},
}


def _build(name, overrides):
    from mtlbox.registry import MODELS, UnknownTypeError
    cfg = Config.fromfile(osp.join(MODELS_DIR, name))
    cfg.merge_from_dict(dict(model=overrides))
    try:
        return MODELS.build(cfg.model)
    except UnknownTypeError as err:  # heads of another issue not merged yet
        pytest.skip(f'{name}: {err}')


@pytest.mark.parametrize('name', list(CONFIGS))
def test_base_model_config_builds_and_runs(name):
    torch.manual_seed(0)
    model = _build(name, CONFIGS[name]).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 64, 64), mode='tensor')
    assert set(out) == set(model.tasks)


def test_vmm_structure():
    cfg = Config.fromfile(osp.join(MODELS_DIR, 'vmm_effv2s.py')).model
    assert cfg.backbone == dict(type='EfficientNetV2', arch='s',
                                out_indices=(1, 2, 3))
    assert cfg.neck.in_channels == [64, 160, 256]
    assert cfg.neck.out_channels == 64 and cfg.neck.num_repeats == 2
    assert set(cfg.heads) == {'det', 'seg', 'depth'}
    from mtlbox.models.backbones import EfficientNetV2
    from mtlbox.models.necks import TRIV2BiFPN
    backbone = EfficientNetV2(arch='s', out_indices=(1, 2, 3)).eval()
    neck = TRIV2BiFPN(**{k: v for k, v in cfg.neck.items()
                         if k != 'type'}).eval()
    with torch.no_grad():
        feats = neck(backbone(torch.randn(1, 3, 64, 64)))
    assert [tuple(f.shape) for f in feats] == [(1, 64, 8, 8), (1, 64, 4, 4),
                                               (1, 64, 2, 2)]
