"""CAGrad: conflict-averse gradient descent."""
from typing import List, Optional

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import Aggregation, GramianBalancer
from .solvers import project_simplex


def _face_optimum(M: Tensor, b: Tensor, c: Tensor, support: Tensor,
                  ridge: float = 0.0) -> Optional[Tensor]:
    """The stationary point of ``f(w) = w^T b + c sqrt(w^T M w)`` on the
    face of the simplex where only ``support`` [T] (bool) is non-zero, in
    closed form, or None where it does not exist there (singular ``M_S``,
    a negative weight, ``G^T w = 0``).

    Stationarity ``b_S + (c / r) M_S w_S = lam 1`` (``r = ||G^T w||``) gives
    ``w_S = (r / c)(lam x - y)`` with ``x = M_S^{-1} 1``, ``y = M_S^{-1} b_S``;
    ``r^2 = w^T M w`` gives ``A lam^2 - 2 B lam + b_S . y - c^2 = 0``
    (``A = 1 . x``, ``B = 1 . y``) and ``sum w = 1`` needs
    ``lam A - B = sqrt(B^2 - A (b_S . y - c^2)) > 0``. ``ridge`` adds
    ``ridge * diag(M_S)`` to ``M_S`` (for linearly dependent gradients)."""
    idx = support.nonzero().flatten()
    MS = M[idx][:, idx]
    MS = MS + torch.diag(ridge * MS.diagonal())
    rhs = torch.stack([torch.ones_like(idx, dtype=M.dtype), b[idx]], 1)
    sol, info = torch.linalg.solve_ex(MS, rhs)
    if int(info) != 0:
        return None
    x, y = sol[:, 0], sol[:, 1]
    A, B = x.sum(), y.sum()
    disc = B * B - A * (b[idx] @ y - c * c)
    if not bool((disc > 0) & (A > 0)):
        return None
    root = disc.sqrt()
    w_face = ((B + root) / A * x - y) / root
    if not bool(torch.isfinite(w_face).all() & (w_face >= 0).all()):
        return None
    w = torch.zeros_like(b)
    w[idx] = w_face
    return w


# ||G^T w|| below this times max_t ||g_t|| is 0: w^T M w has rounding
# errors of 1e-16 max_t M_tt, so its square root is not resolved below 1e-8
_ZERO_BALL = 1e-8


def _project_scaled_simplex(y: Tensor, a: Tensor) -> Tensor:
    """Euclidean projection of y [T] onto ``{v >= 0, a . v = 1}`` (a > 0):
    ``v = max(y - theta a, 0)`` with theta from the sorted breakpoints
    ``y_t / a_t``."""
    order = torch.argsort(y / a, descending=True)
    ys, as_ = y[order], a[order]
    theta = ((ys * as_).cumsum(0) - 1) / (as_ * as_).cumsum(0)
    # the active set is the longest prefix whose breakpoints exceed theta
    valid = ys / as_ > theta
    k = int(valid.nonzero().max()) if bool(valid.any()) else 0
    return (y - theta[k] * a).clamp_min(0)


def cagrad_weights(gram: Tensor, alpha: float, max_iter: int = 200,
                   tol: float = 1e-10) -> Tensor:
    """``w* = argmin_{w in simplex} w^T M 1/T + c sqrt(w^T M w)`` with
    ``c = alpha ||gbar||``, ``||gbar||^2 = 1^T M 1 / T^2`` (float64).
    gram [T, T] -> w [T].

    Solved for ``v_t = ||g_t|| w_t`` (unit-diagonal Gram, so gradients of
    very different norms do not make the steps crawl): projected gradient
    steps (backtracking on the quadratic upper bound), each followed by the
    exact optimum on the face of the current support
    (:func:`_face_optimum`, kept when it is feasible and not worse), until
    the Frank-Wolfe gap ``grad . w - min_t grad_t`` (a bound on the
    objective's distance to the optimum) is at most
    ``tol * (max |b| + c max_t ||g_t||)`` (or, for ``alpha >= 1``, ``G^T w``
    is 0 to ``1e-8 max_t ||g_t||``: the optimum where 0 is in the hull);
    ``max_iter`` is a guard (reached only with linearly dependent
    gradients)."""
    M = gram.double()
    num = M.shape[0]
    b = M.mean(1)
    c = alpha * b.mean().clamp_min(0).sqrt()
    diag = M.diagonal()
    eps = 1e-20 * (diag.max() + 1e-30)
    norms = torch.where(diag > 0, diag.clamp_min(1e-300).sqrt(),
                        torch.ones_like(diag))
    inv = 1.0 / norms

    def objective(w):
        return w @ b + c * (w @ M @ w + eps).sqrt()

    def gradient(w):
        Mw = M @ w
        return b + c * Mw / (w @ Mw + eps).sqrt()

    scale = b.abs().max() + c * diag.max().clamp_min(0).sqrt()
    w = M.new_full((num,), 1.0 / num)
    value = objective(w)
    # in v = norms * w the objective's curvature is about c (unit diagonal)
    step = 1.0 / (c + 1e-30)
    kink = _ZERO_BALL * diag.max().clamp_min(0).sqrt()
    for _ in range(max_iter):
        grad = gradient(w)
        if bool(grad @ w - grad.min() <= tol * scale):
            break
        # alpha >= 1: f >= (alpha - 1) ||gbar|| ||G^T w|| >= 0, so a point
        # with G^T w = 0 (to the precision of w^T M w) is optimal; f is not
        # differentiable there and the gap never closes
        if alpha >= 1 and bool((w @ M @ w).clamp_min(0).sqrt() <= kink):
            break
        v, grad_v = w * norms, grad * inv
        while True:
            cand_v = _project_scaled_simplex(v - step * grad_v, inv)
            diff = cand_v - v
            cand = cand_v * inv
            cand_value = objective(cand)
            if bool(cand_value <= value + grad_v @ diff +
                    diff @ diff / (2 * step)) or step < 1e-20:
                break
            step *= 0.5
        w, value = cand, cand_value
        step *= 2.0
        # exact on the support; a relative ridge where M_S is singular
        for ridge in (0.0, 1e-12):
            face = _face_optimum(M, b, c, w > 0, ridge)
            if face is not None:
                face_value = objective(face)
                if bool(face_value <= value):
                    w, value = face, face_value
                    break
    return w.to(gram.dtype)


def cagrad(grads: Tensor, alpha: float = 0.5, rescale: int = 1,
           max_iter: int = 200, tol: float = 1e-10) -> Tensor:
    """``d = gbar + (c / ||G^T w*||) G^T w*`` (see :func:`cagrad_weights`),
    divided by ``1 + alpha^2`` (rescale 1), ``1 + alpha`` (rescale 2) or
    not (rescale 0). G [T, P] -> d [P]."""
    gram = grads @ grads.T
    return cagrad_coefficients(gram, alpha, rescale, max_iter, tol) @ grads


def cagrad_coefficients(gram: Tensor, alpha: float = 0.5,
                        rescale: int = 1, max_iter: int = 200,
                        tol: float = 1e-10) -> Tensor:
    """CAGrad's update as ``d = coef @ G``:
    ``coef = (1/T + (c / ||G^T w*||) w*) / r`` with ``c = alpha ||gbar||``,
    norms from the Gram matrix. gram [T, T] -> coef [T]."""
    num = gram.shape[0]
    w = cagrad_weights(gram, alpha, max_iter, tol)
    M = gram.double()
    c = alpha * (M.sum() / num**2).clamp_min(0).sqrt()
    gw_norm = (w.double() @ M @ w.double()).clamp_min(0).sqrt()
    coef = torch.full((num,), 1.0 / num, dtype=M.dtype, device=M.device)
    # G^T w* = 0 (0 in the hull; resolved to 1e-8 max ||g_t|| only, as
    # w^T M w cancels): the ball term vanishes
    tiny = _ZERO_BALL * M.diagonal().max().clamp_min(1e-30).sqrt()
    scale = torch.where(gw_norm > tiny, c / gw_norm.clamp_min(1e-30),
                        torch.zeros_like(c))
    coef = coef + scale * w.double()
    d = coef
    if rescale == 1:
        d = d / (1 + alpha**2)
    elif rescale == 2:
        d = d / (1 + alpha)
    elif rescale != 0:
        raise ValueError(f'CAGrad rescale={rescale}: expected 0, 1 or 2')
    return d.to(gram.dtype)


@BALANCERS.register_module()
class CAGrad(GramianBalancer):
    """CAGrad (Liu et al., "Conflict-Averse Gradient Descent for Multi-task
    Learning", NeurIPS 2021).

    ``gbar = mean_t g_t``, ``c = alpha ||gbar||``,
    ``w* = argmin_{w in simplex} w^T G gbar + c ||G^T w||``,
    ``d = gbar + (c / ||G^T w*||) G^T w*``; ``rescale`` 1 divides by
    ``1 + alpha^2``, 2 by ``1 + alpha``, 0 not at all. The inner problem is
    solved in torch on G's device instead of the reference's scipy SLSQP:
    projected gradient on the simplex with an exact solve on the current
    support, until its Frank-Wolfe gap is below ``tol`` (relative; see
    :func:`cagrad_weights`) or ``max_iter`` steps.

    G [T, P] -> d [P]. Args: alpha (0.5), rescale (1), max_iter (200),
    tol (1e-10).
    """

    needs = 'grads'

    def __init__(self, tasks, alpha: float = 0.5, rescale: int = 1,
                 max_iter: int = 200, tol: float = 1e-10):
        super().__init__(tasks)
        if rescale not in (0, 1, 2):
            raise ValueError(f'CAGrad rescale={rescale}: expected 0, 1 or 2')
        self.alpha, self.rescale = float(alpha), int(rescale)
        self.max_iter, self.tol = int(max_iter), float(tol)

    def aggregate_gram(self, gram: Tensor, losses: Tensor,
                       tasks: List[str]) -> Aggregation:
        coef = cagrad_coefficients(gram, self.alpha, self.rescale,
                                   self.max_iter, self.tol)
        return Aggregation(weights=coef)
