from collections import Counter

import numpy as np
import pytest
import torch
from dataset_helpers import LOAD, PACK

from mtlbox.datasets import PartialMTLDataset, SourceRatioSampler
from mtlbox.registry import DATA_SAMPLERS, DATASETS


def _voc_nyu(make, **kwargs):
    voc = make('voc')
    nyu = make('nyuv2_mtan')
    common = [dict(type='MTLResize', scale=(16, 12))]
    return PartialMTLDataset(
        sources=[
            dict(type='VOCMTLDataset', data_root=voc['data_root'],
                 pipeline=LOAD + common),
            dict(type='NYUv2MTANDataset', data_root=nyu['data_root'],
                 pipeline=LOAD),
        ],
        tasks=dict(NYUv2=['depth']), pipeline=[PACK], **kwargs)


def test_labeled_tasks_and_counts(make):
    ds = _voc_nyu(make)
    assert len(ds) == 6 and ds.source_names == ['VOC', 'NYUv2']
    # VOC: a det+seg, b det, c seg; NYUv2 restricted to depth
    assert ds.task_counts() == {'det': 2, 'seg': 2, 'depth': 3}
    seen = Counter()
    for i in range(len(ds)):
        s = ds[i]['data_samples']
        tasks = tuple(s.labeled_tasks)
        seen[(s.source, tasks)] += 1
        if s.source == 'NYUv2':
            assert tasks == ('depth', )
            assert 'gt_sem_seg' not in s and 'gt_normal' not in s
            assert s.gt_depth.shape == (12, 16)
        else:
            assert 'depth' not in tasks and 'gt_depth' not in s
            assert s.img_shape == (12, 16)
        assert s.sample_idx == i
    assert seen == Counter({('VOC', ('det', 'seg')): 1, ('VOC', ('det', )): 1,
                            ('VOC', ('seg', )): 1, ('NYUv2', ('depth', )): 3})
    assert set(ds.metainfo['sources']) == {'VOC', 'NYUv2'}
    assert len(ds.metainfo['sources']['VOC']['classes']) == 20


def test_collated_batch_has_partial_labels(make):
    from mmengine.dataset import pseudo_collate
    ds = _voc_nyu(make)
    batch = pseudo_collate([ds[i] for i in range(len(ds))])
    with_depth = [s.source for s in batch['data_samples'] if 'gt_depth' in s]
    assert with_depth == ['NYUv2'] * 3


def test_split_batch_rounding():
    assert SourceRatioSampler.split_batch(8, [3, 1]) == [6, 2]
    assert SourceRatioSampler.split_batch(7, [1, 1]) in ([4, 3], [3, 4])
    assert sum(SourceRatioSampler.split_batch(5, [1, 1, 1])) == 5
    assert SourceRatioSampler.split_batch(4, [100, 1]) == [3, 1]
    assert SourceRatioSampler.split_batch(4, [1, 0]) == [4, 0]


class _Fake:
    source_names = ['A', 'B', 'C']
    source_of_index = np.repeat([0, 1, 2], [50, 7, 20])


def test_sampler_fixed_ratio_per_batch():
    sampler = SourceRatioSampler(_Fake(), batch_size=8,
                                 ratios=dict(A=2, B=1, C=1), seed=3)
    idx = list(sampler)
    assert len(idx) == len(sampler) == 8 * 10
    src = _Fake.source_of_index[idx]
    for b in range(10):
        counts = np.bincount(src[b * 8:(b + 1) * 8], minlength=3)
        assert counts.tolist() == [4, 2, 2]
    # the small source B (7 samples) is cycled: every sample used, balanced
    used = Counter(i for i in idx if _Fake.source_of_index[i] == 1)
    assert set(used) == set(range(50, 57))
    assert max(used.values()) - min(used.values()) <= 1
    # deterministic per (seed, epoch)
    assert idx == list(sampler)
    sampler.set_epoch(1)
    assert idx != list(sampler)


def test_sampler_from_registry_in_dataloader(make):
    ds = _voc_nyu(make)
    sampler = DATA_SAMPLERS.build(dict(type='SourceRatioSampler',
                                       batch_size=4, ratios=[1, 1],
                                       num_batches=3),
                                  default_args=dict(dataset=ds, seed=0))
    from mmengine.dataset import pseudo_collate
    loader = torch.utils.data.DataLoader(ds, batch_size=4, sampler=sampler,
                                         collate_fn=pseudo_collate)
    batches = list(loader)
    assert len(batches) == 3
    for batch in batches:
        sources = Counter(s.source for s in batch['data_samples'])
        assert sources == Counter(VOC=2, NYUv2=2)


def test_sampler_bad_ratio_names():
    with pytest.raises(ValueError, match='sources are'):
        SourceRatioSampler(_Fake(), batch_size=4, ratios=dict(D=1), seed=0)


def test_partial_builds_from_config_with_synth():
    ds = DATASETS.build(dict(
        type='PartialMTLDataset',
        sources=[dict(type='SynthScenes', num_samples=4, img_size=(16, 16),
                      tasks=('det', 'seg', 'depth'))],
        tasks=dict(SynthScenes=['depth']), pipeline=[PACK]))
    assert ds.task_counts() == {'depth': 4}
    s = ds[1]['data_samples']
    assert s.labeled_tasks == ['depth'] and 'gt_instances' not in s


def test_partial_skips_corrupt_sample_of_skipping_source(make, tmp_path):
    voc = make('voc')
    nyu = make('nyuv2_mtan')
    (tmp_path / 'nyuv2_mtan' / 'train' / 'image' / '0.npy').write_bytes(b'x')
    sources = [dict(type='VOCMTLDataset', data_root=voc['data_root'],
                    pipeline=LOAD),
               dict(type='NYUv2MTANDataset', data_root=nyu['data_root'],
                    pipeline=LOAD)]
    ds = PartialMTLDataset(sources=sources, pipeline=[PACK], test_mode=True)
    with pytest.raises(Exception, match='0.npy'):
        ds[3]
    sources[1]['skip_invalid'] = True
    ds = PartialMTLDataset(sources=sources, pipeline=[PACK], test_mode=True)
    assert ds[3]['data_samples'].img_path.endswith('1.npy')
