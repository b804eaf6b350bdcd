"""Aligned-MTL: gradient alignment by the condition number."""
import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from .gram import GramWeighting


def aligned_weights(gram: Tensor) -> Tensor:
    """``M = V diag(lambda) V^T`` (non-zero eigenvalues),
    ``B = sqrt(lambda_min) V diag(lambda)^{-1/2} V^T``; returns
    ``a = B 1`` [T] so that ``d = sum_t a_t g_t`` is the sum of the aligned
    gradients ``G^T B``, which are orthogonal with equal norm
    ``sqrt(lambda_min)``."""
    M = gram.double()
    lam, V = torch.linalg.eigh(M)
    tol = lam.max().clamp_min(0) * M.shape[0] * torch.finfo(M.dtype).eps
    keep = lam > tol
    if not bool(keep.any()):
        return torch.zeros(M.shape[0], dtype=gram.dtype, device=gram.device)
    lam_k = torch.where(keep, lam, torch.ones_like(lam))
    inv_sqrt = torch.where(keep, lam_k.rsqrt(), torch.zeros_like(lam))
    sigma_min = lam[keep].min().sqrt()
    B = sigma_min * (V * inv_sqrt) @ V.T
    return B.sum(1).to(gram.dtype)


@BALANCERS.register_module()
class AlignedMTL(GramWeighting):
    """Aligned-MTL (Senushkin et al., "Independent Component Alignment for
    Multi-Task Learning", CVPR 2023): replace G by the aligned
    ``G_hat = B G`` whose rows are orthogonal with equal norm (the smallest
    singular value of G) and return their sum; see
    :func:`aligned_weights`. Eigendecomposition by ``torch.linalg.eigh``
    (LibMTL's ``torch.symeig`` no longer exists in torch 2).
    G [T, P] -> d [P]. Registered as ``AlignedMTL`` and ``Aligned-MTL``.
    """

    gram_weights = staticmethod(aligned_weights)


BALANCERS.register_module(name='Aligned-MTL', module=AlignedMTL)
