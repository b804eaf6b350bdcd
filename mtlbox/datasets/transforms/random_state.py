"""Random generators of transforms that stay independent in worker processes.

A transform holding ``np.random.default_rng(seed)`` is copied into every
DataLoader worker with the same state, so all workers would draw the same
flips and crops. :class:`WorkerRNG` creates the generator lazily in each
process: in a worker it is seeded from ``torch.initial_seed()`` (distinct per
worker and epoch, and reproducible when the run is seeded) mixed with
``seed``; in the main process from ``seed`` alone (or OS entropy when
``seed`` is None), so ``seed`` makes single-process runs and tests exact.
"""
import os

import numpy as np


class WorkerRNG:

    def __init__(self, seed=None):
        self.seed = seed
        self._pid = None
        self._gen = None

    def __call__(self) -> np.random.Generator:
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
        return dict(seed=self.seed, _pid=None, _gen=None)
