"""IMTL-G: impartial gradient weighting."""
import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from .gram import GramWeighting, weights_of_nonzero_rows


def imtl_g_weights_from_gram(gram: Tensor) -> Tensor:
    """IMTL-G weights from the Gram matrix M [T, T] -> a [T] (sum 1).

    A task whose gradient is zero (``||g_t|| <= 1e-12 max_s ||g_s||``) gets
    weight 0 and the others are IMTL-G of the non-zero rows (as TorchJD):
    the formula divides by ``||g_t||`` and would otherwise put all the
    weight on the zero row, a zero update. All rows zero: a = 0.

    With ``n_t = ||g_t||`` and ``A_st = g_s . u_t = M_st / n_t``:
    ``(D U^T)_st = A_00 - A_0t - A_s0 + A_st`` and
    ``(U g_1)_t = A_00 - A_0t`` (s, t = 2..T), so G is never touched."""
    return weights_of_nonzero_rows(gram, _imtl_g_weights_nonzero)


def _imtl_g_weights_nonzero(gram: Tensor) -> Tensor:
    num = gram.shape[0]
    if num == 1:
        return gram.new_ones(1)
    M = gram.double()
    A = M / M.diagonal().clamp_min(1e-30).sqrt()[None, :]
    DU = A[0, 0] - A[0, 1:][None, :] - A[1:, :1] + A[1:, 1:]
    Ug = A[0, 0] - A[0, 1:]
    # a^T (D U^T) = g_1 U^T  <=>  (D U^T)^T a = U g_1
    rest = torch.linalg.pinv(DU.T) @ Ug
    return torch.cat([1 - rest.sum().reshape(1), rest]).to(gram.dtype)


def imtl_g_weights(grads: Tensor) -> Tensor:
    """Weights ``a`` [T] (sum 1) such that ``d = sum_t a_t g_t`` has equal
    projections on every unit gradient ``u_t = g_t / ||g_t||``:
    ``D = [g_1 - g_t]``, ``U = [u_1 - u_t]`` (t = 2..T),
    ``a_{2..T} = g_1 U^T (D U^T)^{-1}``, ``a_1 = 1 - sum a_{2..T}``.
    G [T, P] -> a [T]."""
    return imtl_g_weights_from_gram(grads @ grads.T)


@BALANCERS.register_module()
class IMTLG(GramWeighting):
    """IMTL-G (Liu et al., "Towards Impartial Multi-task Learning", ICLR
    2021): ``d = sum_t a_t g_t`` with ``a`` from :func:`imtl_g_weights`,
    so ``d . u_t`` is the same for every task. G [T, P] -> d [P].
    Registered as ``IMTLG`` and ``IMTL-G``.
    """

    gram_weights = staticmethod(imtl_g_weights_from_gram)


BALANCERS.register_module(name='IMTL-G', module=IMTLG)
