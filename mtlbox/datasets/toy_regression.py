"""Toy multi-task regression (GradNorm / SLGrad).

``y_t = | sigma_t tanh((B + eps_t) x) |`` with ``B ~ N(0, I)`` [K, D] shared
by all tasks, ``eps_t ~ N(0, 3.5 I)`` [K, D] (variance 3.5, i.e. std
``sqrt(3.5)``) per task, ``x ~ N(0, I_D)``. Label noise: in each task of
``noisy_tasks`` a fraction ``noise_p`` of the samples (exactly
``round(noise_p N)``, chosen at random) gets its target replaced by the
constant ``-0.5`` (``noise_type='constant'``) or by ``N(0, 0.2^2)`` draws
(``'gaussian'``, std 0.2).

Determinism: ``B``, ``eps`` and ``sigma`` come from ``default_rng(seed)``;
the inputs and the noise from ``default_rng([seed, sample_seed])``, so a
validation split shares the function and has other inputs.

Samples are not images: results hold ``x`` [D], ``y`` [T, K] and ``noisy``
[T]; pack them with ``PackVectorInputs``. Task names ``task_names``
(default ``t0, t1, ...``).
"""
import numpy as np
from mmengine.dataset import BaseDataset

from mtlbox.registry import DATASETS


def toy_regression(num_samples, in_dim, out_dim, sigmas, seed=0,
                   sample_seed=0):
    """``(x [N, D], y [T, N, K], B, eps [T, K, D])`` without noise."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(out_dim, in_dim))
    eps = rng.normal(scale=np.sqrt(3.5),
                     size=(len(sigmas), out_dim, in_dim))
    xrng = np.random.default_rng([seed, sample_seed])
    x = xrng.normal(size=(num_samples, in_dim))
    y = np.stack([np.abs(s * np.tanh(x @ (base + e).T))
                  for s, e in zip(sigmas, eps)])
    return x, y, base, eps


@DATASETS.register_module()
class ToyRegressionDataset(BaseDataset):
    """See the module docstring.

    Args:
        num_samples, in_dim (D), out_dim (K): sizes.
        sigmas: per-task scales; their number is the number of tasks.
        noise_p: fraction of noisy samples per noisy task.
        noise_type: ``constant`` (-0.5) or ``gaussian`` (N(0, 0.2^2)).
        noisy_tasks: indices of tasks that get noise (default all).
        seed / sample_seed: function seed and input seed.
        task_names: names of the tasks.
    """

    def __init__(self, num_samples=1000, in_dim=250, out_dim=100,
                 sigmas=(1.0, 100.0), noise_p=0.0, noise_type='constant',
                 noisy_tasks=None, seed=0, sample_seed=0, task_names=None,
                 pipeline=(), **kwargs):
        if noise_type not in ('constant', 'gaussian'):
            raise ValueError(f"noise_type={noise_type!r}: 'constant' or "
                             "'gaussian'")
        if not 0 <= noise_p <= 1:
            raise ValueError(f'noise_p={noise_p} not in [0, 1]')
        self.num_samples, self.in_dim, self.out_dim = (num_samples, in_dim,
                                                       out_dim)
        self.sigmas = tuple(float(s) for s in sigmas)
        self.noise_p, self.noise_type = noise_p, noise_type
        self.noisy_tasks = (list(range(len(self.sigmas)))
                            if noisy_tasks is None else list(noisy_tasks))
        self.seed, self.sample_seed = seed, sample_seed
        self.task_names = tuple(task_names or
                                (f't{i}' for i in range(len(self.sigmas))))
        if len(self.task_names) != len(self.sigmas):
            raise ValueError('task_names and sigmas differ in length')
        kwargs.setdefault('serialize_data', False)
        super().__init__(pipeline=list(pipeline), **kwargs)

    def load_data_list(self):
        x, y, _, _ = toy_regression(self.num_samples, self.in_dim,
                                    self.out_dim, self.sigmas, self.seed,
                                    self.sample_seed)
        rng = np.random.default_rng([self.seed, self.sample_seed, 1])
        noisy = np.zeros((len(self.sigmas), self.num_samples), bool)
        n_noisy = int(round(self.noise_p * self.num_samples))
        for t in self.noisy_tasks:
            idx = rng.choice(self.num_samples, n_noisy, replace=False)
            noisy[t, idx] = True
            if self.noise_type == 'constant':
                y[t, idx] = -0.5
            else:
                y[t, idx] = rng.normal(0, 0.2, (n_noisy, self.out_dim))
        return [dict(sample_idx=i, x=x[i].astype(np.float32),
                     y=y[:, i].astype(np.float32), noisy=noisy[:, i],
                     task_names=self.task_names,
                     labeled_tasks=list(self.task_names),
                     source='ToyRegression')
                for i in range(self.num_samples)]
