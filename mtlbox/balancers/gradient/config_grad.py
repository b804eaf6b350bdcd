"""ConFIG: a conflict-free update with equal cosine to every task."""
from typing import List
import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import Aggregation, GramianBalancer
from .gram import weights_of_nonzero_rows


def config_weights(gram: Tensor) -> Tensor:
    """Weights w with ``w @ G`` the ConFIG direction
    ``g_c = (sum_t g_t . v_hat) v_hat``, ``v_hat = v / ||v||``,
    ``v = U^+ 1`` (U: the unit rows ``u_t = g_t / ||g_t||``), so that
    ``u_t . v_hat`` is the same for every t.

    From the Gram matrix only: ``U^+ = U^T (U U^T)^+``, so ``v = U^T c``
    with ``c = N^+ 1`` (``N = U U^T``, the cosine matrix), ``||v||^2 =
    c^T N c`` and ``sum_t g_t . v = n^T N c`` (``n_t = ||g_t||``); hence
    ``w_t = (n^T N c / c^T N c) c_t / n_t``. Zero rows must be removed
    first (see :func:`~mtlbox.balancers.gradient.gram.
    weights_of_nonzero_rows`). gram [T, T] -> w [T], in float64.
    """
    M = gram.double()
    norms = M.diagonal().clamp_min(0).sqrt()
    cosines = M / (norms[:, None] * norms[None, :])
    c = torch.linalg.pinv(cosines, hermitian=True) @ torch.ones_like(norms)
    nc = cosines @ c
    weights = (norms @ nc) / (c @ nc) * c / norms
    return weights.to(gram.dtype)


@BALANCERS.register_module(name='ConFIG')
class ConFIG(GramianBalancer):
    """ConFIG (Liu, Chu, Thuerey, "ConFIG: Towards Conflict-free Training
    of Physics Informed Neural Networks", ICLR 2025):
    ``v = U^+ 1_T`` (``U = [g_t / ||g_t||]``), ``v_hat = v / ||v||``,
    ``d = (sum_t g_t . v_hat) v_hat``: every task sees the same positive
    cosine with d (when U has full row rank), and d's length is the sum of
    the gradients' projections on it. Computed from the Gram matrix
    (:func:`config_weights`), so ``d = w @ G`` without a [T, P]
    pseudo-inverse. A zero gradient is left out, as the reference's
    ``nan_to_num`` of its unit vector does.

    As TorchJD's ``ConFIG`` (equal preference ``1_T``, projection-length
    scaling). The authors' ``conflictfree`` package solves ``U v = 1`` by
    least squares by default, the same as the pseudo-inverse (the minimum
    norm solution) when U has full row rank; its momentum variant
    (M-ConFIG) is not implemented.

    Shapes: G [T, P] (rows: present tasks), losses [T] -> d = w @ G [P].
    """

    needs = 'grads'

    def aggregate_gram(self, gram: Tensor, losses: Tensor,
                       tasks: List[str]) -> Aggregation:
        weights = weights_of_nonzero_rows(gram, config_weights)
        return Aggregation(weights=weights)
