"""Nash-MTL: the Nash bargaining solution."""
import warnings
from typing import List

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import Aggregation, GramianBalancer
from .solvers import fair_newton


def nash_weights(gram: Tensor, max_iter: int = 50, tol: float = 1e-9,
                 ridge: float = 1e-10):
    """Solve ``M a = 1 / a`` (a > 0) for the Gram matrix M [T, T].

    ``M a = 1/a`` is the stationarity condition of the strictly convex
    ``phi(a) = a^T M a / 2 - sum_t log a_t``, minimised here by damped
    Newton steps (Hessian ``M + diag(1/a^2)``, backtracking that keeps
    ``a > 0``), in float64 on M's device. M is first divided by its mean
    diagonal s (then ``a = a~ / sqrt(s)``) and gets a tiny ridge so a
    singular M (0 in the gradients' convex hull) stays solvable.

    Returns ``(a [T], relative residual ||M a - 1/a|| / ||1/a||)``.
    """
    M = gram.double()
    num = M.shape[0]
    scale = M.diagonal().mean().clamp_min(1e-30)
    Mn = M / scale + ridge * torch.eye(num, dtype=M.dtype, device=M.device)
    a = 1.0 / Mn.diagonal().clamp_min(1e-12).sqrt()
    a = fair_newton(Mn, 1.0, a, max_iter, tol)
    residual = (M / scale @ a - 1.0 / a).norm() / (1.0 / a).norm()
    return (a / scale.sqrt()).to(gram.dtype), residual


@BALANCERS.register_module()
class NashMTL(GramianBalancer):
    """Nash-MTL (Navon et al., "Multi-Task Learning as a Bargaining Game",
    ICML 2022): ``d = sum_t a_t g_t`` with ``a > 0`` solving
    ``G G^T a = 1 / a`` (each task's directional improvement ``g_t . d`` is
    ``1 / a_t``: the Nash bargaining solution), see :func:`nash_weights`.
    G [T, P] -> d [P]. Registered as ``NashMTL`` and ``Nash-MTL``.

    Differences from the reference code: the equation is solved exactly by
    Newton's method in torch (the reference runs a few convex-concave
    iterations with cvxpy and silently uses equal weights when the solver
    is missing or fails; here a poorly solved system raises a warning with
    the residual, never a silent fallback). The reference code divides M
    by ``n = ||M||_F`` but multiplies n back in its constraints
    (``log(a n) + log((M / n) a) >= 0``), so it solves the raw system, as
    here: ``d`` does not change when the gradients are scaled. (Solving
    ``(M / n) a = 1/a`` instead would give ``d`` larger by exactly
    ``sqrt(n)``; the former ``normalize_gram=True`` did that and is
    refused.)
    """

    needs = 'grads'

    def __init__(self, tasks, max_iter: int = 50,
                 warn_residual: float = 1e-4, normalize_gram: bool = False):
        super().__init__(tasks)
        if normalize_gram:
            raise ValueError(
                'NashMTL: normalize_gram=True was removed: it solved '
                '(M / ||M||) a = 1/a, i.e. d larger by sqrt(||M||), while '
                'the reference code multiplies the norm back and solves the '
                'raw M a = 1/a, which NashMTL always does; drop '
                'normalize_gram from the config')
        self.max_iter = int(max_iter)
        self.warn_residual = float(warn_residual)

    def aggregate_gram(self, gram: Tensor, losses: Tensor,
                       tasks: List[str]) -> Aggregation:
        gram = gram
        weights, residual = nash_weights(gram, self.max_iter)
        if residual > self.warn_residual:
            warnings.warn(f'Nash-MTL: G G^T a = 1/a solved only to relative '
                          f'residual {float(residual):.2e} (gradients nearly '
                          'linearly dependent); using the approximate a')
        return Aggregation(weights=weights)


BALANCERS.register_module(name='Nash-MTL', module=NashMTL)
