"""FairGrad: alpha-fair resource allocation between task gradients."""
from typing import List
import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import Aggregation, GramianBalancer
from .gram import weights_of_nonzero_rows
from .solvers import fair_newton


def fairgrad_weights(gram: Tensor, alpha: float = 1.0, max_iter: int = 100,
                     tol: float = 1e-10, ridge: float = 1e-10) -> Tensor:
    """Solve ``(M w)_t = w_t^(-1/alpha)`` for ``w > 0`` (M = G G^T [T, T]).

    The equation is the stationarity condition of the strictly convex
    ``phi(w) = w^T M w / 2 - sum_t h(w_t)`` with ``h' (w) = w^(-1/alpha)``
    (``h = log`` for alpha = 1, else ``h(w) = w^(1-1/alpha) / (1-1/alpha)``;
    h is concave for every alpha > 0), minimised by damped Newton steps
    (Hessian ``M + diag(w^(-1/alpha - 1) / alpha)``, backtracking that keeps
    ``w > 0``) in float64. M is divided by its mean diagonal s first (the
    solution of the raw system is then ``w~ s^(-alpha / (alpha + 1))``) and
    gets a ridge ``ridge * diag(M)``, relative to each task's own norm.
    alpha = 1 is Nash-MTL's ``M w = 1/w``. gram [T, T] -> w [T].
    """
    if alpha <= 0:
        raise ValueError(f'FairGrad needs alpha > 0, got {alpha}')
    M = gram.double()
    scale = M.diagonal().mean().clamp_min(1e-30)
    Mn = M / scale
    # relative ridge: keeps phi bounded when 0 is in the gradients' convex
    # hull, without swamping a task whose gradient is 1e4 times smaller
    Mn = Mn + torch.diag(ridge * Mn.diagonal())
    # start: the solution when the gradients are orthogonal
    w = Mn.diagonal().clamp_min(1e-12) ** (-alpha / (alpha + 1))
    w = fair_newton(Mn, alpha, w, max_iter, tol)
    w = w * scale ** (-alpha / (alpha + 1))
    return w.to(gram.dtype)


@BALANCERS.register_module()
class FairGrad(GramianBalancer):
    """FairGrad (Ban & Ji, "Fair Resource Allocation in Multi-Task
    Learning", ICML 2024).

    Task t's utility is its directional improvement ``u_t = g_t . d``; d
    maximises the alpha-fair ``sum_t u_t^(1-alpha) / (1-alpha)`` (``log u_t``
    for alpha = 1), whose solution is ``d = G^T w`` with ``w > 0`` solving
    ``(G G^T w)_t = w_t^(-1/alpha)`` (:func:`fairgrad_weights`). alpha = 1 is
    Nash-MTL; large alpha approaches max-min fairness. A task with a zero
    gradient gets weight 0 (the equation has no finite solution for it).

    Differences from the reference code: the equation is solved by Newton's
    method in torch on G's device (the authors and LibMTL run
    ``scipy.optimize.least_squares`` on the CPU from ``w = 1/T``; both agree
    to solver tolerance). The authors' code also multiplies the shared
    gradient by T and clips it to norm 1; here ``d = w @ G`` and clipping
    is the optimizer wrapper's ``clip_grad``, as for every balancer. LibMTL
    additionally scales the heads' gradients by w; here they get their own
    task's gradient, as in the authors' code.

    Args:
        alpha: fairness exponent (1.0: the class default of both the authors
            and LibMTL; the authors' experiments use 2.0).
        max_iter: Newton iterations.

    Shapes: G [T, P] (rows: present tasks), losses [T] -> d = w @ G [P].
    """

    needs = 'grads'

    def __init__(self, tasks, alpha: float = 1.0, max_iter: int = 100):
        super().__init__(tasks)
        if alpha <= 0:
            raise ValueError(f'FairGrad: alpha must be > 0, got {alpha}')
        self.alpha = float(alpha)
        self.max_iter = int(max_iter)

    def aggregate_gram(self, gram: Tensor, losses: Tensor,
                       tasks: List[str]) -> Aggregation:
        weights = weights_of_nonzero_rows(
            gram,
            lambda gram: fairgrad_weights(gram, self.alpha, self.max_iter))
        return Aggregation(weights=weights)
