"""Smooth Tchebycheff scalarization."""
from typing import Dict, Optional

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import BaseBalancer, Weighting, as_loss_vector


def smooth_tchebycheff(losses: Tensor, preference: Tensor, ideal: Tensor,
                       mu: float) -> Tensor:
    """``mu log sum_t exp(lambda_t (L_t - z_t) / mu)``; losses, preference
    lambda and ideal point z [T] -> scalar."""
    return mu * torch.logsumexp(preference * (losses - ideal) / mu, 0)


@BALANCERS.register_module()
class STCH(BaseBalancer):
    """Smooth Tchebycheff scalarization (Lin et al., ICML 2024).

    ``L = mu log sum_t exp(lambda_t (Lhat_t - z_t) / mu)``, a smooth
    ``max_t lambda_t (Lhat_t - z_t)``; its gradient weighs task t by
    ``lambda_t softmax(lambda (Lhat - z) / mu)_t``.

    ``Lhat_t = L_t / L_t(0)`` with ``normalize=True`` (default): losses are
    divided by the first loss seen for the task (buffer), so tasks with
    different scales compete fairly. The authors' MTL code normalises by
    the mean loss of a warm-up epoch instead; the first-step loss is our
    simplification (documented in docs/balancers.md).

    Args:
        mu: smoothing (1.0 here; small mu -> hard max).
        preference: ``{task: lambda_t}`` (default 1 for every task).
        ideal: ideal point ``z_t`` (default 0).
        normalize: divide each loss by its first value.
    """

    needs = 'losses'

    def __init__(self, tasks, mu: float = 1.0,
                 preference: Optional[Dict[str, float]] = None,
                 ideal: float = 0.0, normalize: bool = True):
        super().__init__(tasks)
        if mu <= 0:
            raise ValueError(f'STCH mu={mu}: must be > 0')
        preference = preference or {}
        unknown = [t for t in preference if t not in self.tasks]
        if unknown:
            raise KeyError(f'STCH preference names unknown tasks {unknown}')
        self.mu, self.ideal, self.normalize = float(mu), float(ideal), \
            normalize
        self.register_buffer('preference', torch.tensor(
            [float(preference.get(t, 1.0)) for t in self.tasks]))
        self.register_buffer('initial_losses',
                             torch.full((len(self.tasks),), float('nan')))

    def weigh(self, losses: Dict[str, Tensor]) -> Weighting:
        tasks = self.present(losses)
        idx = self.index(tasks).to(self.preference.device)
        vec = as_loss_vector(losses, tasks)
        if self.normalize:
            init = self.initial_losses[idx]
            fresh = torch.isnan(init)
            init = torch.where(fresh, vec.detach().to(init), init)
            self.initial_losses[idx] = init
            vec = vec / init.to(vec).clamp_min(1e-12)
        lam = self.preference[idx].to(vec)
        total = smooth_tchebycheff(vec, lam, torch.full_like(vec, self.ideal),
                                   self.mu)
        with torch.no_grad():
            weights = lam * torch.softmax(lam * (vec - self.ideal) / self.mu,
                                          0)
        return Weighting(total=total, weights=weights)
