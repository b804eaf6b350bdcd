"""MGDA: multiple-gradient descent (min-norm point)."""
from typing import List

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import Aggregation, GramianBalancer
from .solvers import min_norm_weights

NORMALIZATIONS = ('none', 'l2', 'loss', 'loss+')


def normalization_scales(gram: Tensor, losses: Tensor, mode: str) -> Tensor:
    """Factors ``1 / s_t`` applied to the rows before the min-norm search:
    ``none``: 1; ``l2``: 1/||g_t||; ``loss``: 1/L_t; ``loss+``:
    1/(L_t ||g_t||). gram [T, T] (norms from its diagonal), losses [T]."""
    if mode not in NORMALIZATIONS:
        raise ValueError(f'MGDA normalization={mode!r}: expected one of '
                         f'{NORMALIZATIONS}')
    ones = torch.ones(gram.shape[0], dtype=gram.dtype, device=gram.device)
    if mode == 'none':
        return ones
    inv_norm = 1 / gram.diagonal().clamp_min(1e-24).sqrt()
    inv_loss = 1 / losses.to(gram).clamp_min(1e-12)
    if mode == 'l2':
        return inv_norm
    if mode == 'loss':
        return inv_loss
    return inv_loss * inv_norm


def mgda_weights(gram: Tensor, losses: Tensor, normalization: str = 'none',
                 max_iter: int = 250, tol: float = 1e-5) -> Tensor:
    """Weights ``a_t / s_t`` [T] of the min-norm point of the convex hull of
    the normalised rows ``g_t / s_t``, from the Gram matrix alone (the
    normalised Gram is ``(1/s)(1/s)^T * M``)."""
    inv = normalization_scales(gram, losses, normalization)
    alpha = min_norm_weights(gram * (inv[:, None] * inv[None, :]), max_iter,
                             tol)
    return alpha * inv


def mgda(grads: Tensor, losses: Tensor, normalization: str = 'none',
         max_iter: int = 250, tol: float = 1e-5):
    """G [T, P], losses [T] -> ``(d [P], weights [T])`` with
    ``d = weights @ G``; see :func:`mgda_weights`."""
    weights = mgda_weights(grads @ grads.T, losses, normalization, max_iter,
                           tol)
    return weights @ grads, weights


@BALANCERS.register_module()
class MGDA(GramianBalancer):
    """MGDA (Sener & Koltun, "Multi-Task Learning as Multi-Objective
    Optimization", NeurIPS 2018; Desideri 2012).

    ``a* = argmin_{a in simplex} ||sum_t a_t g_t'||^2`` with
    ``g_t' = g_t / s_t`` (normalization ``none``: s=1, ``l2``: ||g_t||,
    ``loss``: L_t, ``loss+``: L_t ||g_t||); the update is
    ``d = sum_t a_t g_t'`` (task t's loss scaled by a_t / s_t, as in the
    paper's code). Frank-Wolfe with exact line search, at most 250
    iterations, tolerance 1e-5; exact closed form for two tasks.

    G [T, P], losses [T] -> d [P]. ``task_weights`` = ``a_t / s_t``.
    """

    needs = 'grads'

    def __init__(self, tasks, normalization: str = 'none',
                 max_iter: int = 250, tol: float = 1e-5):
        super().__init__(tasks)
        if normalization not in NORMALIZATIONS:
            raise ValueError(f'MGDA normalization={normalization!r}: expected'
                             f' one of {NORMALIZATIONS}')
        self.normalization = normalization
        self.max_iter, self.tol = int(max_iter), float(tol)

    def aggregate_gram(self, gram: Tensor, losses: Tensor,
                       tasks: List[str]) -> Aggregation:
        return Aggregation(weights=mgda_weights(
            gram, losses, self.normalization, self.max_iter,
            self.tol))
