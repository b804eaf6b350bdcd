"""tools/analysis/get_flops.py: per-component numbers that add up, and a
FLOP count checked against a published figure."""
import importlib.util
import os.path as osp

import pytest
import torch

ROOT = osp.join(osp.dirname(__file__), '..', '..', '..')


def _tool():
    path = osp.join(ROOT, 'tools', 'analysis', 'get_flops.py')
    spec = importlib.util.spec_from_file_location('get_flops', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _model(architecture, backbone=None, neck=None, channels=(8, 8)):
    from mtlbox.models import MultiTaskModel
    torch.manual_seed(0)
    return MultiTaskModel(
        backbone=backbone or dict(type='MobileNetV3', arch='small',
                                  out_indices=(1, 2)),
        neck=neck or dict(type='FPN', in_channels=[24, 48], out_channels=8),
        architecture=architecture,
        heads=dict(seg=dict(type='SegHead', in_channels=list(channels),
                            num_classes=3, channels=8),
                   depth=dict(type='DepthHead', in_channels=list(channels),
                              channels=8)))


def test_parts_add_up():
    tool = _tool()
    model = _model(dict(type='MMoE', in_channels=[8, 8], num_experts=2))
    result = tool.analyse(model, (64, 64))
    p, f = result['params'], result['flops']
    assert p['total'] == (p['backbone'] + p['neck'] + p['architecture'] +
                          p['heads.seg'] + p['heads.depth'])
    assert p['architecture'] == (p['architecture.shared'] +
                                 p['architecture.seg'] +
                                 p['architecture.depth'])
    assert p['architecture.seg'] == sum(
        x.numel() for x in model.architecture.gates['seg'].parameters())
    assert p['shared'] + p['task.seg'] + p['task.depth'] == p['total']
    assert p['single_task_models'] == 2 * p['shared'] + p['task.seg'] + \
        p['task.depth']
    assert f['total'] == (f['backbone'] + f['neck'] + f['architecture'] +
                          f['heads.seg'] + f['heads.depth'])
    assert 0 < f['architecture.seg'] < f['architecture']
    text = tool.format_report(result, 'x')
    assert 'heads.depth' in text and 'single-task models' in text


def test_resnet18_flops_match_the_published_figure():
    """torchvision lists ResNet-18 at 1.81 GFLOPS (multiply-adds) at
    224x224; the counter reports 2 x MACs, and the backbone here has no fc
    (0.5 M MACs)."""
    tool = _tool()
    model = _model(dict(type='HPS'),
                   backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
                   neck=dict(type='FPN', in_channels=[512], out_channels=8),
                   channels=(8, ))
    flops = tool.analyse(model, (224, 224))['flops']
    assert flops['backbone'] / 2 == pytest.approx(1.81e9, rel=0.01)
    assert flops['architecture'] == 0
