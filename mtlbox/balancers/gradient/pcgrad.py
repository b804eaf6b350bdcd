"""PCGrad: projecting conflicting gradients."""
import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import BaseBalancer


def pcgrad(grads: Tensor, generator: torch.Generator = None) -> Tensor:
    """Combine task gradients with gradient surgery.

    For each task i, ``g_i'`` starts at ``g_i``; for every other task j in a
    random order, if ``g_i' . g_j < 0`` then
    ``g_i' <- g_i' - (g_i' . g_j / ||g_j||^2) g_j``. Returns ``sum_i g_i'``.

    Args:
        grads: G [T, P], one task gradient per row.
        generator: random source for the projection order.

    Returns:
        The combined gradient [P].

    Yu et al., "Gradient Surgery for Multi-Task Learning", NeurIPS 2020.
    Unlike some reference code, rows are the per-task gradients themselves
    (not cumulative sums) and the projection is onto ``g_j``.
    """
    num_tasks = grads.shape[0]
    norms_sq = (grads * grads).sum(dim=1)
    projected = grads.clone()
    for i in range(num_tasks):
        order = torch.randperm(num_tasks, generator=generator).tolist()
        for j in order:
            if j == i or norms_sq[j] == 0:
                continue
            dot = projected[i] @ grads[j]
            if dot < 0:
                projected[i] -= dot / norms_sq[j] * grads[j]
    return projected.sum(dim=0)


@BALANCERS.register_module()
class PCGrad(BaseBalancer):
    """PCGrad (Yu et al., NeurIPS 2020); see :func:`pcgrad`.

    Args:
        tasks: task names.
        seed: seed of the projection-order generator (deterministic runs).
    """

    needs = 'grads'

    def __init__(self, tasks, seed: int = 0):
        super().__init__(tasks)
        self.generator = torch.Generator().manual_seed(seed)

    def aggregate(self, grads: Tensor, losses: Tensor) -> Tensor:
        self.task_weights = {t: 1.0 for t in self.tasks}
        return pcgrad(grads, self.generator)
