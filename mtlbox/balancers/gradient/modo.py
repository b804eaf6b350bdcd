"""MoDo: multi-objective gradient descent with a stochastic weight update."""
from typing import List, Tuple

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import Aggregation, GramianBalancer
from .solvers import project_simplex


def present_simplex(weights: Tensor, idx: Tensor) -> Tuple[Tensor, Tensor]:
    """The present tasks' share of simplex weights ``weights`` [T_all]:
    ``(weights[idx] / mass, mass)`` (uniform when the mass is 0). Write an
    updated share ``w`` back with ``weights[idx] = w * mass``, so absent
    tasks keep theirs and the total stays 1."""
    part = weights[idx]
    mass = part.sum()
    if float(mass) <= 0:
        return torch.full_like(part, 1.0 / part.numel()), mass
    return part / mass, mass


def modo_step(matrix: Tensor, lam: Tensor, gamma: float,
              rho: float) -> Tensor:
    """``lam <- Proj_simplex(lam - gamma (A lam + rho lam))``: one projected
    gradient step on ``lam^T A lam / 2 + rho ||lam||^2 / 2``; ``A = G_1
    G_2^T`` of two independent batches (``G G^T`` with one batch).
    matrix [T, T], lam [T] -> new lam [T]."""
    return project_simplex(lam - gamma * (matrix @ lam + rho * lam))


@BALANCERS.register_module()
class MoDo(GramianBalancer):
    """MoDo (Chen, Fernando, Ying, Chen, "Three-Way Trade-Off in
    Multi-Objective Learning: Optimization, Generalization and
    Conflict-Avoidance", NeurIPS 2023).

    Simplex weights ``lam`` (buffer, start ``1/T``) follow
    ``lam <- Proj_simplex(lam - gamma (G_1 G_2^T lam + rho lam))``
    (:func:`modo_step`) and the update is ``d = G_3^T lam`` (new lam).

    Sampling: the paper (and LibMTL) draw three independent batches per
    step so that ``G_1 G_2^T lam`` is an unbiased estimate of the gradient
    of ``||G^T lam||^2 / 2`` and d is independent of lam; that costs three
    forward/backward passes. mtlbox uses the step's single batch for all
    three (``G_1 = G_2 = G_3 = G``): the deterministic MoDo step on that
    batch, one pass, biased by the batch's own noise in ``G G^T``. (The
    authors' SDMGrad code ends up with the same single-batch estimate, see
    :class:`~mtlbox.balancers.gradient.SDMGrad`.) Heads get their own
    task's gradient once (LibMTL divides theirs by 3 because it
    accumulates three passes: the same thing).

    Only the present tasks' weights move; their share of the simplex is
    updated as a simplex of its own and written back with its mass.

    Args:
        gamma: step size of the weight update (LibMTL's default 1e-3). It
            multiplies the raw Gram matrix, so it depends on the gradients'
            scale.
        rho: L2 regularisation of lam (0.1, LibMTL).

    Shapes: G [T, P] (rows: present tasks), losses [T] -> d = lam @ G [P].
    """

    needs = 'grads'

    def __init__(self, tasks, gamma: float = 1e-3, rho: float = 0.1):
        super().__init__(tasks)
        if gamma <= 0 or rho < 0:
            raise ValueError(f'MoDo needs gamma > 0 and rho >= 0, got '
                             f'gamma={gamma}, rho={rho}')
        self.gamma, self.rho = float(gamma), float(rho)
        num = len(self.tasks)
        self.register_buffer('lam', torch.full((num, ), 1.0 / num,
                                               dtype=torch.float64))

    def aggregate_gram(self, gram: Tensor, losses: Tensor,
                       tasks: List[str]) -> Aggregation:
        idx = self.index(tasks).to(self.lam.device)
        lam, mass = present_simplex(self.lam, idx)
        gram = gram.to(lam)
        lam = modo_step(gram, lam, self.gamma, self.rho)
        if float(mass) > 0:
            self.lam[idx] = lam * mass
        return Aggregation(weights=lam.to(gram.dtype))
