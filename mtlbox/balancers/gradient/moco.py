"""MoCo: correcting gradient bias with tracked gradients."""
from typing import List

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import Aggregation, BaseBalancer
from .solvers import project_simplex


@BALANCERS.register_module()
class MoCo(BaseBalancer):
    """MoCo (Fernando et al., "Mitigating Gradient Bias in Multi-objective
    Learning: A Provably Convergent Approach", ICLR 2023).

    Tracked gradients ``Y_t <- Y_t - beta_k (Y_t - g_t)`` (a task's ``Y``
    starts at its first gradient), weights
    ``lambda <- Pi_simplex(lambda - gamma_k (Y Y^T + rho I) lambda)``
    (start uniform), update ``d = Y^T lambda``; ``beta_k = beta /
    k^beta_sigma``, ``gamma_k = gamma / k^gamma_sigma``, k the step.

    State: ``Y`` [T, P] (buffer sized at the first step), ``lambda`` [T], the
    step counter. With absent tasks only the present rows of ``Y`` move and
    the present part of ``lambda`` is updated within its current mass.
    The paper projects ``lambda`` on the simplex (LibMTL uses a softmax).

    Args: beta (0.5), beta_sigma (0.5), gamma (0.1), gamma_sigma (0.5),
    rho (0).

    Shapes: G [T, P] (rows: present tasks), losses [T] -> d [P].

    In one process the step calls :meth:`aggregate_tensors`: ``Y`` is
    written once, straight from the per-task gradients into a second
    buffer (the two swap, so a non-finite step leaves the state as it
    was), ``Y Y^T`` comes from the same pass and ``d`` is written tensor by
    tensor: no [T, P] matrix of the gradients.
    """

    needs = 'grads'

    def __init__(self, tasks, beta: float = 0.5, beta_sigma: float = 0.5,
                 gamma: float = 0.1, gamma_sigma: float = 0.5,
                 rho: float = 0.0):
        super().__init__(tasks)
        self.beta, self.beta_sigma = float(beta), float(beta_sigma)
        self.gamma, self.gamma_sigma = float(gamma), float(gamma_sigma)
        self.rho = float(rho)
        num = len(self.tasks)
        self.register_lazy_buffer('tracked')
        # the next Y is written here, then the two swap (not saved)
        self.register_buffer('tracked_next', torch.zeros(0),
                             persistent=False)
        self.register_buffer('seen', torch.zeros(num, dtype=torch.bool))
        self.register_buffer('weights', torch.full((num,), 1.0 / num))
        self.register_buffer('step', torch.zeros((), dtype=torch.long))

    def aggregate(self, grads: Tensor, losses: Tensor,
                  tasks: List[str]) -> Aggregation:
        idx = self.index(tasks).to(grads.device)
        if self.tracked.shape != (self.num_tasks, grads.shape[1]):
            self.check_state_width('tracked gradients', self.tracked.shape[-1],
                                   grads.shape[1])
            self.tracked = grads.new_zeros(self.num_tasks, grads.shape[1])
            self.seen.zero_()
        self.step += 1
        k = float(self.step)
        beta = self.beta / k**self.beta_sigma
        gamma = self.gamma / k**self.gamma_sigma
        if len(tasks) == self.num_tasks and bool(self.seen.all()):
            Y = self.tracked  # every task present: in place
            Y.mul_(1 - beta).add_(grads, alpha=beta)
        else:
            old = self.tracked[idx]
            seen = self.seen[idx][:, None]
            Y = torch.where(seen, old - beta * (old - grads), grads)
            self.tracked[idx] = Y
            self.seen[idx] = True
        lam = self.update_weights(idx, Y @ Y.T, gamma)
        # d combines the tracked gradients Y, not G's rows: a direction
        return Aggregation(direction=lam.to(Y) @ Y, weights=lam.to(Y))

    def update_weights(self, idx, gram: Tensor, gamma: float) -> Tensor:
        """``lambda <- Pi_simplex(lambda - gamma (Y Y^T + rho I) lambda)``
        on the present tasks ``idx`` within their current mass; returns the
        normalised lambda of the present tasks."""
        lam = self.weights[idx].to(gram)
        mass = lam.sum().clamp_min(1e-12)
        lam = lam / mass
        gram = gram + self.rho * torch.eye(len(idx), device=gram.device,
                                           dtype=gram.dtype)
        lam = project_simplex(lam - gamma * gram @ lam)
        self.weights[idx] = (lam * mass).to(self.weights)
        return lam

    def aggregate_tensors(self, grads, losses: Tensor,
                          tasks: List[str]) -> Aggregation:
        """:meth:`aggregate` on the per-task gradients kept per tensor
        (:class:`~mtlbox.balancers.task_grads.TaskGradients`)."""
        idx = self.index(tasks).tolist()
        p0 = grads.shared[0]
        if self.sized_state('tracked', sum(p.numel() for p in grads.shared),
                            p0, 'tracked gradients'):
            self.seen.zero_()
        k = float(self.step) + 1
        beta = self.beta / k**self.beta_sigma
        gamma = self.gamma / k**self.gamma_sigma
        seen = self.seen[idx].tolist()
        gram = self.advance_state('tracked', grads, idx,
                                  [1 - beta if s else 0.0 for s in seen],
                                  [beta if s else 1.0 for s in seen])
        self.step += 1
        self.seen[idx] = True
        lam = self.update_weights(idx, gram, gamma)
        return Aggregation(
            direction=grads.combine_state(self.tracked, idx, lam),
            weights=lam.to(p0.dtype))
