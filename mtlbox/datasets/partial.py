"""Partially annotated compositions of datasets, and a source-mixing sampler.

:class:`PartialMTLDataset` concatenates *sources* (any mtlbox datasets) that
label different tasks, e.g. PASCAL VOC (``det``, ``seg``) with NYUv2
(``depth``), as in AMTL's VOC+NYU benchmark. Each sample keeps only the labels
its source provides (``labeled_tasks``), optionally restricted per source with
``tasks``; a label a sample does not have is *absent* (PackMTLInputs packs no
field), so heads compute their losses only over the samples labelled for them.
Label spaces stay per source: ``metainfo['sources'][name]`` holds each
source's metainfo (VOC's 20 detection classes, NYU's classes ...). Two sources
that label the same task must share its label space; restrict ``tasks`` when
they do not (e.g. VOC ``seg`` with NYUv2 ``depth`` only).

Order of processing of sample ``i`` of source ``s``: ``s``'s own pipeline
(loading, resizing to a common size), then restriction of
``labeled_tasks`` and removal of the dropped tasks' results keys, then this
dataset's ``pipeline`` (augmentation, ``PackMTLInputs``).

:class:`SourceRatioSampler` (in ``DATA_SAMPLERS``) makes every batch hold a
fixed number of samples from each source, e.g. ``ratios=dict(VOC=3, NYU=1)``
with ``batch_size=8`` gives 6 VOC and 2 NYU samples in every batch.
"""
import itertools
import math
from typing import Dict, Iterator, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset, force_full_init
from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.logging import print_log
from torch.utils.data import Sampler

from mtlbox.registry import DATA_SAMPLERS, DATASETS
from mtlbox.structures import TASK_KINDS

from .base import fetch_skipping_invalid, with_test_mode


def task_result_keys(task: str):
    """Results keys holding ``task``'s labels (dropped when a source's task
    is removed), from the task-kind table."""
    kind = TASK_KINDS.get(task)
    return kind.result_keys if kind is not None else ()


@DATASETS.register_module()
class PartialMTLDataset(BaseDataset):
    """Concatenation of partially labelled sources (module docstring).

    Args:
        sources: dataset configs (or built datasets); each gets its
            ``source`` name from its own ``source`` argument / class default.
        tasks: optional ``{source name: [tasks]}`` restricting which labels
            of a source are kept (others are dropped from the sample).
        pipeline: transforms applied to every sample after its source's own
            pipeline.
        test_mode: passed to mmengine.
    """

    def __init__(self, sources: Sequence[Union[dict, BaseDataset]],
                 tasks: Optional[Dict[str, Sequence[str]]] = None,
                 pipeline=(), test_mode: bool = False, lazy_init: bool = False,
                 **kwargs):
        if not sources:
            raise ValueError('PartialMTLDataset needs at least one source')
        # a val/test wrapper puts its sources in test mode too (labels in
        # the original image frame, no training-only filtering)
        self.datasets = [
            DATASETS.build(dict(s, test_mode=s.get('test_mode', test_mode)))
            if isinstance(s, dict) else s for s in sources
        ]
        self.source_names = [self._name(d) for d in self.datasets]
        if len(set(self.source_names)) != len(self.source_names):
            raise ValueError(
                f'PartialMTLDataset sources have repeated names '
                f'{self.source_names}; give each a distinct source=...')
        self.task_filter = {k: list(v) for k, v in (tasks or {}).items()}
        unknown = set(self.task_filter) - set(self.source_names)
        if unknown:
            raise ValueError(f'PartialMTLDataset tasks names sources '
                             f'{sorted(unknown)}; the sources are '
                             f'{self.source_names}')
        metainfo = dict(sources={
            n: dict(d.metainfo) for n, d in zip(self.source_names,
                                                self.datasets)})
        super().__init__(metainfo=metainfo, pipeline=list(pipeline),
                         test_mode=test_mode, lazy_init=True,
                         serialize_data=False, **kwargs)
        if not lazy_init:
            self.full_init()

    @staticmethod
    def _name(dataset):
        name = getattr(dataset, 'source', None)
        return name or type(dataset).__name__

    def full_init(self):
        if self._fully_initialized:
            return
        for d in self.datasets:
            d.full_init()
        self.cumulative_sizes = list(itertools.accumulate(
            len(d) for d in self.datasets))
        self.data_list = []  # unused; samples live in the sources
        self._fully_initialized = True
        print_log(f'PartialMTLDataset: {self.summary()}', logger='current')

    def __len__(self):
        if not self._fully_initialized:
            self.full_init()
        return self.cumulative_sizes[-1]

    def locate(self, idx: int):
        """``(source index, index within the source)`` of sample ``idx``."""
        if idx < 0:
            idx += len(self)
        if not 0 <= idx < len(self):
            raise IndexError(f'PartialMTLDataset index {idx} out of range '
                             f'[0, {len(self)})')
        s = int(np.searchsorted(self.cumulative_sizes, idx, side='right'))
        start = self.cumulative_sizes[s - 1] if s else 0
        return s, idx - start

    @property
    def source_of_index(self) -> np.ndarray:
        """Source name index of every sample (for samplers)."""
        if not self._fully_initialized:
            self.full_init()
        return np.repeat(np.arange(len(self.datasets)),
                         [len(d) for d in self.datasets])

    def _restrict(self, source: str, tasks: List[str]) -> List[str]:
        keep = self.task_filter.get(source)
        return list(tasks) if keep is None else [t for t in tasks
                                                 if t in keep]

    def get_data_info(self, idx: int) -> dict:
        s, j = self.locate(idx)
        info = dict(self.datasets[s].get_data_info(j))
        name = self.source_names[s]
        info['source'] = name
        info['labeled_tasks'] = self._restrict(
            name, info.get('labeled_tasks', []))
        info['sample_idx'] = idx
        return info

    def __getitem__(self, idx: int) -> dict:
        """A corrupt sample of a source built with ``skip_invalid=True`` is
        skipped (logged); otherwise its error is raised."""
        return fetch_skipping_invalid(
            self, idx, lambda i: getattr(self.datasets[self.locate(i)[0]],
                                         'skip_invalid', False))

    def prepare_data(self, idx: int):
        s, j = self.locate(idx)
        source = self.datasets[s]
        name = self.source_names[s]
        results = source.pipeline(source.get_data_info(j))
        if results is None:
            return None
        kept = self._restrict(name, results.get('labeled_tasks', []))
        for task in set(results.get('labeled_tasks', [])) - set(kept):
            for key in task_result_keys(task):
                results.pop(key, None)
        results['labeled_tasks'] = kept
        results['source'] = name
        results['sample_idx'] = idx
        return self.pipeline(with_test_mode(results, self.test_mode))

    @force_full_init
    def task_counts(self) -> Dict[str, int]:
        """Number of samples labelled for each task (reads data infos only)."""
        counts: Dict[str, int] = {}
        for s, d in enumerate(self.datasets):
            name = self.source_names[s]
            for j in range(len(d)):
                info = d.get_data_info(j) if not hasattr(
                    d, 'render') else dict(labeled_tasks=d.labeled_tasks(
                        j, np.random.default_rng([d.seed, j, 1])))
                for t in self._restrict(name, info.get('labeled_tasks', [])):
                    counts[t] = counts.get(t, 0) + 1
        return counts

    def summary(self) -> str:
        sizes = ', '.join(f'{n}: {len(d)}'
                          for n, d in zip(self.source_names, self.datasets))
        return f'{len(self)} samples ({sizes}); per-task: {self.task_counts()}'


@DATA_SAMPLERS.register_module()
class SourceRatioSampler(Sampler):
    """Batches with a fixed number of samples from each source.

    With ``ratios`` ``r_s`` and batch size ``B``, every batch holds
    ``n_s = round(B r_s / sum r)`` samples of source ``s`` (largest-remainder
    rounding so that ``sum n_s = B``; every source with ``r_s > 0`` gets at
    least one sample when ``B`` allows). Each source is walked in a shuffled
    order and reshuffled when it runs out, so a small source repeats within
    an epoch and a large one is visited partially. The order inside a batch
    is shuffled.

    Set the dataloader's ``batch_size`` to ``batch_size`` here (the sampler
    yields indices batch by batch). Under DDP each rank takes every
    ``world_size``-th batch of one common sequence.

    Args:
        dataset: a :class:`PartialMTLDataset` (or anything with
            ``source_of_index`` and ``source_names``).
        batch_size: per-device batch size.
        ratios: ``{source name: weight}``, a list in source order, or
            ``'balanced'`` (equal shares, the default) / ``'size'``
            (proportional to source sizes).
        num_batches: batches per epoch (per rank); default
            ``ceil(len(dataset) / (batch_size * world_size))``.
        shuffle: shuffle within sources (else sequential cycling).
        seed: random seed (synced across ranks).
    """

    def __init__(self, dataset, batch_size: int,
                 ratios: Union[str, Sequence[float], Dict[str, float]] =
                 'balanced', num_batches: Optional[int] = None,
                 shuffle: bool = True, seed: Optional[int] = None):
        rank, world_size = get_dist_info()
        self.rank, self.world_size = rank, world_size
        self.dataset = dataset
        self.batch_size = int(batch_size)
        names = list(dataset.source_names)
        self.source_index = np.asarray(dataset.source_of_index)
        sizes = np.bincount(self.source_index, minlength=len(names))
        if isinstance(ratios, str):
            if ratios not in ('balanced', 'size'):
                raise ValueError(f"SourceRatioSampler ratios={ratios!r}: use "
                                 "'balanced', 'size', a list or a dict")
            weights = (np.ones(len(names)) if ratios == 'balanced'
                       else sizes.astype(float))
        elif isinstance(ratios, dict):
            unknown = set(ratios) - set(names)
            if unknown:
                raise ValueError(f'SourceRatioSampler ratios name '
                                 f'{sorted(unknown)}; sources are {names}')
            weights = np.array([float(ratios.get(n, 0)) for n in names])
        else:
            weights = np.asarray(ratios, float)
            if len(weights) != len(names):
                raise ValueError(f'SourceRatioSampler: {len(weights)} ratios '
                                 f'for {len(names)} sources {names}')
        if (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f'SourceRatioSampler ratios {weights.tolist()} '
                             'must be >= 0 with a positive sum')
        if ((weights > 0) & (sizes == 0)).any():
            raise ValueError('SourceRatioSampler: a source with a positive '
                             f'ratio is empty (sizes {sizes.tolist()})')
        self.names = names
        self.per_batch = self.split_batch(self.batch_size, weights)
        self.num_batches = num_batches or math.ceil(
            len(self.source_index) / (self.batch_size * world_size))
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0

    @staticmethod
    def split_batch(batch_size: int, weights) -> List[int]:
        """Samples per source in a batch (largest-remainder rounding)."""
        weights = np.asarray(weights, float)
        exact = batch_size * weights / weights.sum()
        counts = np.floor(exact).astype(int)
        positive = weights > 0
        # give every positive source one sample first when possible
        if positive.sum() <= batch_size:
            counts = np.where(positive & (counts == 0), 1, counts)
        while counts.sum() > batch_size:
            over = np.argmax(counts - exact)
            counts[over] -= 1
        remainder = exact - counts
        for i in np.argsort(-remainder, kind='stable'):
            if counts.sum() >= batch_size:
                break
            if positive[i]:
                counts[i] += 1
        return counts.tolist()

    def _stream(self, members: np.ndarray, rng: np.random.Generator):
        while True:
            order = rng.permutation(members) if self.shuffle else members
            yield from order.tolist()

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng([self.seed, self.epoch])
        streams = [
            self._stream(np.flatnonzero(self.source_index == s), rng)
            for s in range(len(self.names))
        ]
        total = self.num_batches * self.world_size
        for b in range(total):
            batch = []
            for s, n in enumerate(self.per_batch):
                batch.extend(next(streams[s]) for _ in range(n))
            if self.shuffle:
                batch = rng.permutation(batch).tolist()
            if b % self.world_size == self.rank:
                yield from batch

    def __len__(self) -> int:
        return self.num_batches * self.batch_size

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

