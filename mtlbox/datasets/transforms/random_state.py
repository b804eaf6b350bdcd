"""Random generators of transforms: reproducible per sample, or per worker.

Two modes:

- **Per sample** (training under a Runner): :class:`AugmentationRNGHook`
  sets the run's seed, a distinct ``salt`` per generator and, before every
  epoch, the epoch number. A transform then asks ``self.rng(results)`` and
  gets ``np.random.default_rng([run_seed, seed, salt, epoch, sample_idx])``:
  the draws of a sample depend only on the run seed, the epoch and the
  sample, not on the number of DataLoader workers, on which worker loads it
  or on what was drawn before. So a resumed run draws exactly what the
  uninterrupted run drew, and every epoch draws afresh. The epoch lives in
  a shared-memory tensor, so persistent workers see it change too.
- **Per worker stream** (no hook, or no ``sample_idx`` in ``results``): a
  transform holding ``np.random.default_rng(seed)`` would be copied into
  every DataLoader worker with the same state, so all workers would draw
  the same flips and crops; the generator is therefore created lazily in
  each process: in a worker seeded from ``torch.initial_seed()`` (distinct
  per worker) mixed with ``seed``; in the main process from ``seed`` alone
  (or OS entropy when ``seed`` is None), so ``seed`` makes single-process
  runs and tests exact.
"""
import os
from typing import Optional

import numpy as np
import torch


class WorkerRNG:

    def __init__(self, seed=None):
        self.seed = seed
        self.run_seed: Optional[int] = None
        self.salt = 0
        # set by set_epoch: a shared-memory scalar, so persistent workers
        # (forked after the first call) see later epochs
        self._epoch: Optional[torch.Tensor] = None
        self._pid = None
        self._gen = None

    def set_epoch(self, epoch: int, run_seed: int, salt: int) -> None:
        """Switch to per-sample draws for ``epoch`` (see the module doc)."""
        self.run_seed, self.salt = int(run_seed), int(salt)
        if self._epoch is None:
            self._epoch = torch.zeros((), dtype=torch.long).share_memory_()
        self._epoch.fill_(int(epoch))

    @property
    def epoch(self) -> Optional[int]:
        return None if self._epoch is None else int(self._epoch)

    def __call__(self, results: Optional[dict] = None) -> np.random.Generator:
        epoch = self.epoch
        if (epoch is not None and results is not None
                and results.get('sample_idx') is not None):
            return np.random.default_rng([
                self.run_seed % (1 << 63), int(self.seed or 0), self.salt,
                epoch, int(results['sample_idx'])])
        pid = os.getpid()
        if self._gen is None or pid != self._pid:
            import torch.utils.data
            worker = torch.utils.data.get_worker_info()
            if worker is not None:
                entropy = [torch.initial_seed() % (1 << 63)]
                if self.seed is not None:
                    entropy.insert(0, int(self.seed))
                self._gen = np.random.default_rng(entropy)
            else:
                self._gen = np.random.default_rng(self.seed)
            self._pid = pid
        return self._gen

    def __getstate__(self):  # a copy (e.g. a worker) starts its own stream
        return dict(seed=self.seed, run_seed=self.run_seed, salt=self.salt,
                    _epoch=self._epoch, _pid=None, _gen=None)


def _is_plugin_transform(obj) -> bool:
    """Transforms and datasets of plugins live outside mtlbox: descend into
    anything registered as one (an mmcv ``BaseTransform``, a dataset)."""
    from mmcv.transforms import BaseTransform
    from torch.utils.data import Dataset
    return isinstance(obj, (BaseTransform, Dataset))


def find_worker_rngs(obj, found=None, seen=None) -> list:
    """Every :class:`WorkerRNG` reachable from ``obj`` (a dataset, its
    wrapped datasets, pipelines and transforms), in a fixed order."""
    found = [] if found is None else found
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return found
    seen.add(id(obj))
    if isinstance(obj, WorkerRNG):
        found.append(obj)
        return found
    if isinstance(obj, (list, tuple)):
        children = list(obj)
    elif isinstance(obj, dict):
        children = list(obj.values())
    elif hasattr(obj, '__dict__') and type(obj).__module__.split('.')[0] in (
            'mtlbox', 'mmengine', 'mmcv') or _is_plugin_transform(obj):
        children = [v for k, v in sorted(vars(obj).items())
                    if k not in ('data_list', 'data_bytes', 'data_address',
                                 '_rendered', 'metainfo', '_metainfo')]
    else:
        return found
    for child in children:
        if isinstance(child, (str, bytes, int, float, bool, np.ndarray,
                              torch.Tensor)) or child is None:
            continue
        find_worker_rngs(child, found, seen)
    return found
