"""UPGrad: unconflicting projection of gradients."""
import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from .gram import GramWeighting
from .solvers import box_qp


def upgrad_weights(gram: Tensor) -> Tensor:
    """Projection of each ``g_i`` onto the dual cone
    ``{v : G v >= 0}`` is ``G^T w_i`` with
    ``w_i = argmin_{w >= e_i} w^T M w`` (exact, :func:`box_qp`); returns
    the mean of the ``w_i`` [T]."""
    num = gram.shape[0]
    lower = torch.eye(num, dtype=gram.dtype, device=gram.device)
    return box_qp(gram, lower).mean(0)


@BALANCERS.register_module()
class UPGrad(GramWeighting):
    """UPGrad (Quinton & Rey, "Jacobian Descent for Multi-Objective
    Optimization", 2024): ``d = (1/T) sum_i pi(g_i)`` where ``pi`` projects
    onto the dual cone of the task gradients, so ``g_t . d >= 0`` for every
    task; see :func:`upgrad_weights`. G [T, P] -> d [P].
    """

    gram_weights = staticmethod(upgrad_weights)
