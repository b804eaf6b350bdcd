"""Gradient-level balancers whose weights depend on the Gram matrix only."""
from typing import Callable, List

import torch
from torch import Tensor

from ..base import Aggregation, GramianBalancer


def nonzero_rows(gram: Tensor, rel_tol: float = 1e-12) -> Tensor:
    """Which tasks have a non-zero gradient: ``||g_t|| > rel_tol *
    max_s ||g_s||``, with ``||g_t|| = sqrt(M_tt)``. Gram [T, T] -> mask [T]
    (all False when every gradient is zero)."""
    norms = gram.diagonal().clamp_min(0).sqrt()
    return norms > rel_tol * norms.max()


def weights_of_nonzero_rows(gram: Tensor,
                            weights_fn: Callable[[Tensor], Tensor],
                            rel_tol: float = 1e-12) -> Tensor:
    """``weights_fn`` applied to the Gram matrix of the non-zero rows only;
    a zero row (see :func:`nonzero_rows`) gets weight 0 (as TorchJD). For
    methods that divide by ``||g_t||`` (IMTL-G), where a zero row would
    otherwise take all the weight and give a zero update.
    Gram [T, T] -> w [T]."""
    keep = nonzero_rows(gram, rel_tol)
    if bool(keep.all()):    # the usual case: one scalar read, no copy
        return weights_fn(gram)
    weights = gram.new_zeros(gram.shape[0])
    if bool(keep.any()):
        weights[keep] = weights_fn(gram[keep][:, keep])
    return weights


class GramWeighting(GramianBalancer):
    """``d = w(G G^T) @ G``: the task weights are a function of the Gram
    matrix of the present tasks' gradients alone (Aligned-MTL, IMTL-G,
    UPGrad). Subclasses set :meth:`gram_weights` (Gram [T, T] -> w [T]).
    G [T, P] -> d [P]."""

    needs = 'grads'

    @staticmethod
    def gram_weights(gram: Tensor) -> Tensor:
        raise NotImplementedError

    def aggregate_gram(self, gram: Tensor, losses: Tensor,
                       tasks: List[str]) -> Aggregation:
        return Aggregation(weights=self.gram_weights(gram))
