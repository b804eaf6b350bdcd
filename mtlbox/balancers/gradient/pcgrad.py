"""PCGrad: projecting conflicting gradients."""
from typing import List

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import Aggregation, GramianBalancer


def pcgrad_weights(gram: Tensor,
                   generator: torch.Generator = None) -> Tensor:
    """PCGrad as coefficients: ``sum_i g_i' = w @ G``.

    Every projected ``g_i'`` is a combination ``C_i @ G`` of the original
    rows, so the projections run on the Gram matrix M [T, T]
    (``g_i' . g_j = C_i M_j``) and G is read once more at the end.
    gram [T, T] -> w [T]."""
    M = gram.double()
    num = M.shape[0]
    coef = torch.eye(num, dtype=M.dtype, device=M.device)
    for i in range(num):
        order = torch.randperm(num, generator=generator).tolist()
        for j in order:
            if j == i or M[j, j] == 0:
                continue
            dot = coef[i] @ M[:, j]
            if dot < 0:
                coef[i, j] -= dot / M[j, j]
    return coef.sum(0).to(gram.dtype)


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
    (not cumulative sums) and the projection is onto ``g_j``. Computed in
    coefficient space (:func:`pcgrad_weights`): two passes over G.
    """
    return pcgrad_weights(grads @ grads.T, generator) @ grads


@BALANCERS.register_module()
class PCGrad(GramianBalancer):
    """PCGrad (Yu et al., "Gradient Surgery for Multi-Task Learning",
    NeurIPS 2020): for each i and every j != i in random order, if
    ``g_i' . g_j < 0`` then ``g_i' -= (g_i' . g_j / ||g_j||^2) g_j``;
    ``d = sum_i g_i'`` (see :func:`pcgrad`, computed on the Gram matrix).

    Args:
        tasks: task names.
        seed: seed of the projection-order generator (deterministic runs);
            its state is a buffer, so a resumed run continues the stream.

    Shapes: G [T, P] (rows: present tasks), losses [T] -> d [P].
    """

    needs = 'grads'

    def __init__(self, tasks, seed: int = 0):
        super().__init__(tasks)
        self.register_rng(seed)

    def aggregate_gram(self, gram: Tensor, losses: Tensor,
                       tasks: List[str]) -> Aggregation:
        gen = self.generator()
        weights = pcgrad_weights(gram, gen)
        self.save_rng(gen)
        return Aggregation(weights=weights)
