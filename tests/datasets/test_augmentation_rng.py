"""Per-sample augmentation draws: independent of DataLoader workers, new
every epoch, and reproducible, so a resumed run sees the same data."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.dataset import Compose
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader, Dataset

import mtlbox  # noqa: F401  (registers the transforms)
from mtlbox.datasets.transforms import random_state
from mtlbox.engine.hooks import AugmentationRNGHook


class _Images(Dataset):
    """16 tiny images; returns what the random transforms did to each."""

    def __init__(self):
        self.pipeline = Compose([
            dict(type='MTLRandomFlip', prob=0.5),
            dict(type='MTLPhotometricDistortion', prob=0.5),
            dict(type='MTLRandomScaleCrop', scales=(1.0, 1.25, 1.5)),
        ])

    def __len__(self):
        return 16

    def __getitem__(self, idx):
        img = np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3)
        out = self.pipeline(dict(img=img, sample_idx=idx, img_shape=(8, 8)))
        return idx, int(out['flip']), float(out['img'].sum()), out['zoom']


def _runner(dataset, epoch, seed=7):
    loop = EpochBasedTrainLoop.__new__(EpochBasedTrainLoop)
    loop.dataloader = SimpleNamespace(dataset=dataset)
    return SimpleNamespace(train_loop=loop, epoch=epoch, seed=seed,
                           logger=SimpleNamespace(info=lambda msg: None))


def _epochs(num_workers, persistent, epochs=2, seed=7):
    dataset = _Images()
    hook = AugmentationRNGHook()
    hook.before_train(_runner(dataset, 0, seed))
    loader = DataLoader(dataset, batch_size=4, shuffle=True,
                        num_workers=num_workers,
                        persistent_workers=persistent,
                        collate_fn=lambda batch: batch,
                        generator=torch.Generator().manual_seed(num_workers))
    draws = []
    for epoch in range(epochs):
        hook.before_train_epoch(_runner(dataset, epoch, seed))
        seen = {}
        for batch in loader:
            for idx, flip, total, zoom in batch:
                seen[idx] = (flip, total, zoom)
        draws.append([seen[i] for i in range(len(dataset))])
    return draws


def test_draws_depend_on_seed_epoch_and_sample_only():
    single = _epochs(0, False)
    # other workers and another shuffle order: the same draws per sample
    assert _epochs(2, False) == single
    assert _epochs(2, True) == single  # persistent workers see the epoch
    assert single[0] != single[1]  # a new epoch draws afresh
    assert _epochs(0, False, seed=8) != single
    flips = [d[0] for d in single[0]]
    assert 0 < sum(flips) < len(flips)  # both outcomes occur


def test_without_the_hook_each_process_has_its_own_stream():
    rng = random_state.WorkerRNG(seed=3)
    a = rng(dict(sample_idx=0)).random()
    b = rng(dict(sample_idx=0)).random()
    assert a != b  # one stream, no per-sample key
    assert a == np.random.default_rng(3).random()
    rng.set_epoch(2, run_seed=5, salt=1)
    keyed = rng(dict(sample_idx=4)).random()
    assert keyed == rng(dict(sample_idx=4)).random()
    assert keyed == np.random.default_rng([5, 3, 1, 2, 4]).random()


def test_hook_finds_generators_through_wrappers():
    from mtlbox.registry import DATASETS
    sources = []
    for name in 'ab':
        source = DATASETS.build(dict(
            type='SynthScenes', num_samples=2, img_size=(16, 16),
            pipeline=[dict(type='MTLRandomFlip')]))
        source.source = name
        sources.append(source)
    dataset = DATASETS.build(dict(
        type='PartialMTLDataset', sources=sources,
        pipeline=[dict(type='MTLPhotometricDistortion'),
                  dict(type='PackMTLInputs')]))
    rngs = random_state.find_worker_rngs(dataset)
    assert len(rngs) == 3 and len({id(r) for r in rngs}) == 3


@pytest.mark.parametrize('loop', ['iter', 'epoch'])
def test_iteration_based_runs_keep_worker_streams(loop):
    dataset = _Images()
    runner = _runner(dataset, 0)
    if loop == 'iter':
        runner.train_loop = SimpleNamespace(dataloader=runner.train_loop
                                            .dataloader)
    hook = AugmentationRNGHook()
    hook.before_train(runner)
    hook.before_train_epoch(runner)
    rngs = random_state.find_worker_rngs(dataset)
    assert len(rngs) == 3
    assert all((r.epoch is None) == (loop == 'iter') for r in rngs)
