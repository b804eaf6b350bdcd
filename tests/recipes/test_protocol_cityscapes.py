"""Cityscapes in the MTAN protocol (configs/cityscapes/): the reader of
MTAN's ``.npy`` arrays, its errors, and a recipe that trains two
iterations with validation on the test split and tests its checkpoint, on a
tiny copy written here (not by mtlbox's fixture generator)."""
import math
import os
import os.path as osp

import numpy as np
import pytest

from . import recipe_runner as tools
from .test_protocol_nyuv2_segnet import build_model, count, tiny_overrides

# FAMO / FairGrad experiments/cityscapes BASE (mIoU, pix acc, abs err,
# rel err), higher-is-better flags
BASE = [0.7401, 0.9316, 0.0125, 27.77]
KEYS = ['seg/mIoU', 'seg/aAcc', 'depth/abs_err', 'depth/abs_rel']
HIGHER = [True, True, False, False]


def write_cityscapes_npy(root, sizes, seed=0, label_folder='label_7'):
    """``<root>/{train,val}/{image,label_7,depth}/<i>.npy`` as MTAN's
    preprocessing: image HxWx3 float RGB in [0, 1], label HxW float 0..6
    with -1 void, depth HxWx1 inverse depth with 0 missing."""
    rng = np.random.default_rng(seed)
    written = {}
    for split, shapes in sizes.items():
        for i, (h, w) in enumerate(shapes):
            label = rng.integers(-1, 7, (h, w)).astype(np.float32)
            depth = rng.uniform(0.005, 0.1, (h, w, 1)).astype(np.float32)
            depth[:, :4] = 0.0
            arrays = {'image': rng.random((h, w, 3), dtype=np.float32),
                      label_folder: label, 'depth': depth}
            for name, arr in arrays.items():
                os.makedirs(osp.join(root, split, name), exist_ok=True)
                np.save(osp.join(root, split, name, f'{i}.npy'), arr)
            written[(split, i)] = arrays
    return written


def dataset(root, **kwargs):
    from mtlbox.datasets import CityscapesMTANDataset
    return CityscapesMTANDataset(data_root=root, pipeline=[], **kwargs)


def test_reader_maps_void_and_keeps_depth(tmp_path):
    from mtlbox.datasets.transforms import (LoadMTLAnnotations,
                                            LoadMTLImageFromFile)
    root = str(tmp_path)
    arrays = write_cityscapes_npy(root, {'val': [(32, 64), (40, 48)]})
    ds = dataset(root, split='val')
    assert len(ds) == 2 and ds[1]['labeled_tasks'] == ['seg', 'depth']
    info = LoadMTLAnnotations()(LoadMTLImageFromFile()(dict(ds[1])))
    label = arrays[('val', 1)]['label_7']
    assert info['img'].shape == (40, 48, 3)
    np.testing.assert_array_equal(info['gt_seg_map'],
                                  np.where(label < 0, 255, label))
    np.testing.assert_allclose(info['gt_depth'].reshape(40, 48),
                               arrays[('val', 1)]['depth'][..., 0])


def test_reader_errors_name_the_file(tmp_path):
    from mtlbox.datasets import CorruptSampleError, DatasetLayoutError
    root = str(tmp_path)
    write_cityscapes_npy(root, {'train': [(32, 64), (32, 64)]})
    with pytest.raises(DatasetLayoutError,
                       match=r'/val not found.*#cityscapes-mtan.*'
                       r'make_fixture.py cityscapes_mtan'):
        dataset(root, split='val')
    bad = osp.join(root, 'train', 'label_7', '1.npy')
    np.save(bad, np.zeros((32, 64, 3), np.float32))  # an RGB label
    with pytest.raises(CorruptSampleError,
                       match=r'label_7/1.npy: array of shape \(32, 64, 3\)'):
        dataset(root, split='train')
    assert len(dataset(root, split='train', skip_invalid=True)) == 1
    with pytest.raises(ValueError, match="tasks=\\['normal'\\]"):
        dataset(root, tasks=['normal'])


def test_two_task_mtan_parameter_count():
    model = build_model('configs/cityscapes/ew_segnet_mtan.py')
    # SegNet 24,943,296 + shared attention convs 10,220,160 + 2 tasks'
    # attention 2 x 2,984,576 + heads (3x3 64->64 + 1x1 64->C, biases)
    heads = 2 * (9 * 64 * 64 + 64) + 65 * 7 + 65 * 1
    assert count(model) == 24_943_296 + 10_220_160 + 2 * 2_984_576 + heads
    assert count(model) == 41_206_984


def test_cityscapes_recipe_two_iterations(tmp_path):
    config = 'configs/cityscapes/famo_segnet_mtan.py'
    root = str(tmp_path / 'cityscapes')
    write_cityscapes_npy(root, {'train': [(64, 128)] * 4,
                                'val': [(64, 128), (48, 112)]})
    overrides = tiny_overrides(root, tasks=('seg', 'depth'))
    work = str(tmp_path / 'work')
    tools.train(config, work, overrides)
    ckpt = osp.join(work, 'epoch_1.pth')
    assert tools.checkpoint_meta(ckpt)['iter'] == 2
    metrics = tools.test(config, ckpt, str(tmp_path / 'test_work'),
                         str(tmp_path / 'metrics.json'),
                         str(tmp_path / 'show'), overrides)
    for key in KEYS + ['mtl/delta_m_paper']:
        assert key in metrics and math.isfinite(metrics[key]), key
    terms = [(-1 if h else 1) * (metrics[k] - b) / b
             for k, b, h in zip(KEYS, BASE, HIGHER)]
    assert metrics['mtl/delta_m_paper'] == pytest.approx(
        100 * sum(terms) / 4, abs=1e-6)
