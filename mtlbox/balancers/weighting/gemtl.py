"""GeMTL: generalized (power) mean of the task losses."""
from typing import Dict, Optional, Union

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import BaseBalancer, Weighting, as_loss_vector
from .gls import geometric_mean


def power_mean(losses: Tensor, p: float, geo_threshold: float = 0.1) -> Tensor:
    """``((1/T) sum_t L_t^p)^{1/p}``; the geometric mean
    ``exp(mean log L_t)`` (its p -> 0 limit) when ``|p| < geo_threshold``.
    losses [T] (positive) -> scalar."""
    if abs(p) < geo_threshold or p == 0:
        return geometric_mean(losses)
    safe = losses.clamp_min(1e-12)
    return (safe.pow(p).mean()).pow(1.0 / p)


@BALANCERS.register_module()
class GeMTL(BaseBalancer):
    """Generalized-mean multi-task loss (GeMTL).

    ``L = ((1/T) sum_t L_t^p)^{1/p}`` over the T present tasks: p = 1 is the
    mean (EW / T), p -> 0 the geometric mean (GLS), p = -1 the harmonic
    mean. The gradient weighs task t by ``(1/T) (L_t / L)^{p-1}``.

    Schedule: with ``total_iters`` set, p goes linearly from ``p_start`` to
    ``p_end`` (step ``(p_end - p_start) / total_iters`` per training
    iteration) and stays at ``p_end`` afterwards; the default
    ``p_start=-0.5, p_end=0.5`` is the paper's "from -0.5, +1/total_iters
    per iteration". ``total_iters='auto'`` takes the Runner's training
    length (``train_cfg`` max iterations, set by ``BalancerHook`` before
    training), so the schedule always spans the run. Without
    ``total_iters`` p stays at ``p_start``. For
    ``|p| < geo_threshold`` the geometric mean is used (as the reference).

    State: the iteration counter (buffer), so a resumed run continues the
    schedule. Ref bug not copied: the reference resets p every step, so its
    schedule never advances.
    """

    needs = 'losses'

    def __init__(self, tasks, p_start: float = -0.5, p_end: float = 0.5,
                 total_iters: Union[int, str, None] = None,
                 geo_threshold: float = 0.1):
        super().__init__(tasks)
        if total_iters != 'auto' and total_iters is not None and (
                isinstance(total_iters, str) or total_iters <= 0):
            raise ValueError(f'GeMTL total_iters={total_iters!r}: must be > '
                             "0, 'auto' (the Runner's max iterations) or "
                             'None (a constant p)')
        self.p_start, self.p_end = float(p_start), float(p_end)
        self.total_iters = total_iters
        self.geo_threshold = float(geo_threshold)
        self.register_buffer('iteration', torch.zeros((), dtype=torch.long))

    @property
    def p(self) -> float:
        if self.total_iters is None:
            return self.p_start
        if self.total_iters == 'auto':
            raise RuntimeError(
                "GeMTL total_iters='auto' was never resolved: it is set from "
                'the Runner by BalancerHook (custom_hooks of '
                'configs/_base_/default_runtime.py); outside a Runner give '
                'total_iters=<int>')
        frac = min(int(self.iteration) / self.total_iters, 1.0)
        return self.p_start + (self.p_end - self.p_start) * frac

    def weigh(self, losses: Dict[str, Tensor]) -> Weighting:
        tasks = self.present(losses)
        vec = as_loss_vector(losses, tasks)
        p = self.p
        total = power_mean(vec, p, self.geo_threshold)
        with torch.no_grad():
            q = 0.0 if abs(p) < self.geo_threshold else p
            w = (vec.clamp_min(1e-12) / total.clamp_min(1e-12)).pow(q - 1)
        self.iteration += 1
        return Weighting(total=total, weights=w / len(tasks))
