"""CAGrad: conflict-averse gradient descent."""
import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import BaseBalancer
from .solvers import project_simplex


def cagrad_weights(gram: Tensor, alpha: float, max_iter: int = 200,
                   tol: float = 1e-10) -> Tensor:
    """``w* = argmin_{w in simplex} w^T M 1/T + c sqrt(w^T M w)`` with
    ``c = alpha ||gbar||``, ``||gbar||^2 = 1^T M 1 / T^2``: projected
    gradient descent with Armijo backtracking (float64). gram [T, T] ->
    w [T]."""
    M = gram.double()
    num = M.shape[0]
    b = M.mean(1)
    c = alpha * b.mean().clamp_min(0).sqrt()
    eps = 1e-20 * (M.diagonal().max() + 1e-30)

    def objective(w):
        return w @ b + c * (w @ M @ w + eps).sqrt()

    w = M.new_full((num,), 1.0 / num)
    value = objective(w)
    step = 1.0 / (M.diagonal().max().sqrt() + 1e-30) / (c + 1e-30)
    for _ in range(max_iter):
        Mw = M @ w
        grad = b + c * Mw / (w @ Mw + eps).sqrt()
        while True:
            cand = project_simplex(w - step * grad)
            cand_value = objective(cand)
            if cand_value <= value - 1e-4 * grad @ (w - cand) or step < 1e-20:
                break
            step *= 0.5
        moved = (cand - w).abs().max()
        w, value = cand, cand_value
        step *= 2.0
        if moved < tol:
            break
    return w.to(gram.dtype)


def cagrad(grads: Tensor, alpha: float = 0.5, rescale: int = 1) -> Tensor:
    """``d = gbar + (c / ||G^T w*||) G^T w*`` (see :func:`cagrad_weights`),
    divided by ``1 + alpha^2`` (rescale 1), ``1 + alpha`` (rescale 2) or
    not (rescale 0). G [T, P] -> d [P]."""
    gram = grads @ grads.T
    return cagrad_coefficients(gram, alpha, rescale) @ grads


def cagrad_coefficients(gram: Tensor, alpha: float = 0.5,
                        rescale: int = 1) -> Tensor:
    """CAGrad's update as ``d = coef @ G``:
    ``coef = (1/T + (c / ||G^T w*||) w*) / r`` with ``c = alpha ||gbar||``,
    norms from the Gram matrix. gram [T, T] -> coef [T]."""
    num = gram.shape[0]
    w = cagrad_weights(gram, alpha)
    M = gram.double()
    c = alpha * (M.sum() / num**2).clamp_min(0).sqrt()
    gw_norm = (w.double() @ M @ w.double()).clamp_min(0).sqrt()
    coef = torch.full((num,), 1.0 / num, dtype=M.dtype, device=M.device)
    # G^T w* = 0 (0 in the hull): the ball term vanishes
    tiny = 1e-12 * M.diagonal().max().clamp_min(1e-30).sqrt()
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
class CAGrad(BaseBalancer):
    """CAGrad (Liu et al., "Conflict-Averse Gradient Descent for Multi-task
    Learning", NeurIPS 2021).

    ``gbar = mean_t g_t``, ``c = alpha ||gbar||``,
    ``w* = argmin_{w in simplex} w^T G gbar + c ||G^T w||``,
    ``d = gbar + (c / ||G^T w*||) G^T w*``; ``rescale`` 1 divides by
    ``1 + alpha^2``, 2 by ``1 + alpha``, 0 not at all. The inner problem is
    solved in torch (projected gradient on the simplex, Armijo steps) on
    G's device instead of the reference's scipy SLSQP.

    G [T, P] -> d [P]. Args: alpha (0.5), rescale (1).
    """

    needs = 'grads'

    def __init__(self, tasks, alpha: float = 0.5, rescale: int = 1):
        super().__init__(tasks)
        if rescale not in (0, 1, 2):
            raise ValueError(f'CAGrad rescale={rescale}: expected 0, 1 or 2')
        self.alpha, self.rescale = float(alpha), int(rescale)

    def aggregate(self, grads: Tensor, losses: Tensor) -> Tensor:
        tasks = self.rows(grads.shape[0])
        coef = cagrad_coefficients(grads @ grads.T, self.alpha, self.rescale)
        self._set_task_weights(tasks, coef)
        return coef @ grads
