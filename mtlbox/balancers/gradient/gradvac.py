"""Gradient Vaccine."""
from typing import List

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import Aggregation, GramianBalancer


def gradvac_weights(gram: Tensor, targets: Tensor, beta: float,
                    generator: torch.Generator = None):
    """One GradVac step in coefficient space.

    For each task i, ``g_i'`` starts at ``g_i``; for every other j (random
    order) with ``rho = cos(g_i', g_j) < phi_ij``:
    ``g_i' += g_j ||g_i'|| (phi sqrt(1-rho^2) - rho sqrt(1-phi^2))
    / (||g_j|| sqrt(1-phi^2))`` (this sets ``cos(g_i', g_j) = phi``); and
    ``phi_ij <- (1 - beta) phi_ij + beta rho``. ``g_i' = C_i @ G``, so all
    dot products come from the Gram matrix.

    gram [T, T], targets phi [T, T] -> (w [T] with ``sum_i g_i' = w @ G``,
    new phi [T, T]).
    """
    M = gram.double()
    num = M.shape[0]
    norms = M.diagonal().clamp_min(0).sqrt()
    coef = torch.eye(num, dtype=M.dtype, device=M.device)
    targets = targets.clone().to(M)
    for i in range(num):
        order = torch.randperm(num, generator=generator).tolist()
        for j in order:
            if j == i or norms[j] == 0:
                continue
            gi_norm = (coef[i] @ M @ coef[i]).clamp_min(0).sqrt()
            if gi_norm == 0:
                continue
            rho = (coef[i] @ M[:, j]) / (gi_norm * norms[j])
            phi = targets[i, j]
            if rho < phi:
                root = (1 - phi**2).clamp_min(1e-12).sqrt()
                coef[i, j] += gi_norm * (phi * (1 - rho**2).clamp_min(0).sqrt()
                                         - rho * root) / (norms[j] * root)
            targets[i, j] = (1 - beta) * targets[i, j] + beta * rho
    return coef.sum(0).to(gram.dtype), targets


def gradvac(grads: Tensor, targets: Tensor, beta: float,
            generator: torch.Generator = None):
    """G [T, P], targets [T, T] -> (``sum_i g_i'`` [P], new targets); see
    :func:`gradvac_weights`."""
    weights, targets = gradvac_weights(grads @ grads.T, targets, beta,
                                       generator)
    return weights @ grads, targets


@BALANCERS.register_module()
class GradVac(GramianBalancer):
    """Gradient Vaccine (Wang et al., ICLR 2021), whole-model granularity:
    see :func:`gradvac`. The pairwise cosine targets ``phi`` (buffer
    [T, T], start 0) and the projection-order generator are checkpointed;
    only pairs of present tasks update their target.

    Args:
        beta: EMA rate of the targets (0.01, the paper; LibMTL uses 0.5).
        seed: seed of the order generator.

    Shapes: G [T, P] (rows: present tasks), losses [T] -> d [P].
    """

    needs = 'grads'

    def __init__(self, tasks, beta: float = 0.01, seed: int = 0):
        super().__init__(tasks)
        self.beta = float(beta)
        num = len(self.tasks)
        self.register_buffer('targets', torch.zeros(num, num))
        self.register_rng(seed)

    def aggregate_gram(self, gram: Tensor, losses: Tensor,
                       tasks: List[str]) -> Aggregation:
        idx = self.index(tasks).to(self.targets.device)
        gen = self.generator()
        sub = self.targets[idx][:, idx]
        weights, sub = gradvac_weights(gram, sub, self.beta, gen)
        self.save_rng(gen)
        self.targets[idx[:, None], idx[None, :]] = sub.to(self.targets)
        return Aggregation(weights=weights)
