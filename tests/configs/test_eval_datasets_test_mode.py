"""Every val/test dataset of every config is in test mode: evaluation packs
the ground truth in the original image frame only then (as mmdet/mmseg).
And every dataset pipeline of every config resolves to transforms."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
CONFIGS = sorted(
    p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                         recursive=True)
    if '_base_' not in p.split(osp.sep))


def _eval_datasets(cfg):
    for loader in ('val_dataloader', 'test_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset')
        if dataset is not None:
            yield loader, dataset
    # not SLGrad's model.balancer.val_dataloader: a held-out stream it
    # computes losses on, so its labels stay in the input frame


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_val_and_test_datasets_are_in_test_mode(path):
    cfg = Config.fromfile(path)
    found = list(_eval_datasets(cfg))
    assert found or cfg.get('val_dataloader') is None
    for where, dataset in found:
        assert dataset.get('test_mode') is True, (
            f'{where}.dataset ({dataset.get("type")}) lacks test_mode=True')
        # wrappers (PartialMTLDataset sources, SynthUnderwaterRGBD source)
        # pass their test_mode on to inner datasets that do not set one
        inner = list(dataset.get('sources') or []) + [dataset.get('source')]
        for sub in inner:
            if isinstance(sub, dict):
                assert sub.get('test_mode', True) is True, (where, sub)


def _datasets(node):
    if isinstance(node, dict):
        if 'pipeline' in node and 'type' in node:
            yield node
        for value in node.values():
            yield from _datasets(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _datasets(value)


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_dataset_pipelines_are_lists_of_transforms(path):
    """``{{_base_.a}} + {{_base_.b}}`` is not resolved by mmengine: it
    leaves a placeholder string where the pipeline should be."""
    cfg = Config.fromfile(path)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for dataset in _datasets((cfg.get(loader) or {}).get('dataset')):
            pipeline = dataset['pipeline']
            assert isinstance(pipeline, (list, tuple)) and all(
                isinstance(t, dict) and 'type' in t for t in pipeline), (
                    loader, dataset['type'], pipeline)
