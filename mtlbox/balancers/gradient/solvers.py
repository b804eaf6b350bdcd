"""Small solvers on the T x T Gram matrix, in torch on G's device.

All take the Gram matrix ``M = G G^T`` [T, T] (T = number of tasks, small)
so their cost does not depend on the number of parameters.
"""
import itertools

import torch
from torch import Tensor


def min_norm_two(m11: Tensor, m12: Tensor, m22: Tensor) -> Tensor:
    """Weight ``gamma`` of ``g_1`` in the min-norm point
    ``gamma g_1 + (1 - gamma) g_2`` of the segment (exact):
    ``gamma = clamp((m22 - m12) / (m11 + m22 - 2 m12), 0, 1)``."""
    denom = m11 + m22 - 2 * m12
    safe = torch.where(denom > 0, denom, torch.ones_like(denom))
    gamma = torch.where(denom > 0, (m22 - m12) / safe,
                        torch.full_like(denom, 0.5))
    return gamma.clamp(0.0, 1.0)


def min_norm_weights(gram: Tensor, max_iter: int = 250,
                     tol: float = 1e-5) -> Tensor:
    """``argmin_{a in simplex} a^T M a``: the convex combination of the rows
    of G with the smallest norm (MGDA). Exact for T <= 2; Frank-Wolfe with
    exact line search otherwise (``max_iter`` iterations, stop when the
    weights move less than ``tol``), started from the best pair.

    gram [T, T] -> a [T].
    """
    num = gram.shape[0]
    if num == 1:
        return gram.new_ones(1)
    if num == 2:
        gamma = min_norm_two(gram[0, 0], gram[0, 1], gram[1, 1])
        return torch.stack([gamma, 1 - gamma])
    # start: the best of the pairwise min-norm points, all pairs at once
    # (row-major i < j: argmin keeps the first of equal values, as a loop
    # over itertools.combinations keeping the strictly smaller would)
    i, j = torch.triu_indices(num, num, 1, device=gram.device)
    mii, mij, mjj = gram[i, i], gram[i, j], gram[j, j]
    gamma = min_norm_two(mii, mij, mjj)
    value = (gamma**2 * mii + 2 * gamma * (1 - gamma) * mij
             + (1 - gamma)**2 * mjj)
    best = int(torch.argmin(value))
    alpha = gram.new_zeros(num)
    alpha[i[best]], alpha[j[best]] = gamma[best], 1 - gamma[best]
    for _ in range(max_iter):
        grad = gram @ alpha
        t = int(torch.argmin(grad))
        v1v1 = alpha @ grad
        v1v2 = grad[t]
        v2v2 = gram[t, t]
        gamma = min_norm_two(v1v1, v1v2, v2v2)
        new = gamma * alpha
        new[t] += 1 - gamma
        change = (new - alpha).abs().sum()
        alpha = new
        if change < tol:
            break
    return alpha


def project_simplex(v: Tensor) -> Tensor:
    """Euclidean projection of each row of v [..., T] onto the simplex."""
    num = v.shape[-1]
    u, _ = torch.sort(v, dim=-1, descending=True)
    css = u.cumsum(-1) - 1
    k = torch.arange(1, num + 1, device=v.device, dtype=v.dtype)
    cond = u - css / k > 0
    rho = (cond * k).argmax(-1, keepdim=True)  # last index where cond holds
    theta = css.gather(-1, rho) / (rho + 1).to(v.dtype)
    return (v - theta).clamp_min(0)


def box_qp(gram: Tensor, lower: Tensor, ridge: float = 1e-9) -> Tensor:
    """``argmin_{w >= lower} w^T M w`` for each row of ``lower`` [B, T].

    Exact: every split of the variables into free and at-bound is solved
    at once (2^T small linear systems, T <= 12) and the feasible KKT point
    with the smallest objective is kept. gram [T, T] -> w [B, T].

    Scale-invariant: the problem is solved for ``v = s * w`` on the
    normalised ``N = S^{-1} M S^{-1}`` (``s_t = sqrt(M_tt)``, unit
    diagonal; zero rows keep ``s_t = 1``) with bounds ``s * lower``, and
    mapped back. The ridge ``ridge * I`` is added to N, i.e. relative to
    each row's own ``M_tt``: a ridge relative to ``mean(diag M)`` swamps a
    task whose gradient is 1e4 times smaller than another's (UPGrad then
    loses ``G d >= 0`` for it).
    """
    num = gram.shape[0]
    if num > 12:
        raise ValueError(f'box_qp enumerates 2^T active sets; T={num} > 12')
    dtype = gram.dtype
    gram = gram.double()
    diag = gram.diagonal()
    scale = torch.where(diag > 0, diag.clamp_min(1e-300).sqrt(),
                        torch.ones_like(diag))
    gram = gram / (scale[:, None] * scale[None, :])
    gram = gram + ridge * torch.eye(num, dtype=gram.dtype,
                                    device=gram.device)
    lower = lower.double() * scale
    masks = torch.tensor(list(itertools.product([0, 1], repeat=num)),
                         dtype=torch.bool, device=gram.device)  # 1 = free
    free = masks[:, :, None] & masks[:, None, :]
    eye = torch.eye(num, dtype=torch.bool, device=gram.device)
    # rows of free variables: M_FF w_F = -M_FA l_A; rows at bound: w = l
    system = torch.where(free, gram, torch.zeros((), dtype=gram.dtype,
                                                 device=gram.device))
    system = torch.where(~masks[:, :, None] & eye, torch.ones_like(system),
                         system)  # [S, T, T]
    fixed = torch.where(masks[None], torch.zeros_like(lower[:, None]),
                        lower[:, None])  # [B, S, T]: bound values
    rhs = torch.where(masks[None], -(fixed @ gram), fixed)
    sol = torch.linalg.solve(system[None], rhs[..., None])[..., 0]  # [B,S,T]
    grad = sol @ gram
    tol = 1e-9 * (gram.diagonal().max() + 1)
    slack = 1e-9 * (lower.abs().amax(-1, keepdim=True)[:, None] + 1)
    feasible = ((sol >= lower[:, None] - slack).all(-1) &
                ((grad >= -tol) | masks[None]).all(-1))
    value = (sol * grad).sum(-1)
    value = torch.where(feasible, value, torch.full_like(value, float('inf')))
    best = value.argmin(-1)
    sol = sol[torch.arange(sol.shape[0]), best] / scale
    return sol.to(dtype)


def fair_newton(Mn: Tensor, alpha: float, w: Tensor, max_iter: int,
                tol: float) -> Tensor:
    """Solve ``(Mn w)_t = w_t^(-1/alpha)`` (w > 0) from the start ``w``.

    The stationarity condition of the strictly convex ``phi(w) = w^T Mn w / 2
    - sum_t h(w_t)``, ``h' = w^(-1/alpha)`` (``h = log`` for alpha = 1),
    minimised by damped Newton steps: Hessian ``Mn + diag(w^(-1/alpha - 1)
    / alpha)``, backtracking first to keep ``w > 0``, then to an Armijo
    decrease of phi; stops when ``||Mn w - w^(-1/alpha)|| <= tol
    ||w^(-1/alpha)||``. alpha = 1 is Nash-MTL's ``Mn a = 1/a``, alpha > 0
    FairGrad's alpha-fair allocation. Mn, w float64."""
    power = -1.0 / alpha
    if alpha == 1:
        def target(x):
            return 1.0 / x

        def curvature(x):
            return 1.0 / x**2

        def h(x):
            return torch.log(x)
    else:
        def target(x):
            return x ** power

        def curvature(x):
            return x ** (power - 1) / alpha

        def h(x):
            return x ** (1 + power) / (1 + power)

    def phi(x):
        return 0.5 * x @ Mn @ x - h(x).sum()

    for _ in range(max_iter):
        goal = target(w)
        grad = Mn @ w - goal
        if grad.norm() <= tol * goal.norm():
            break
        step = torch.linalg.solve(Mn + torch.diag(curvature(w)), grad)
        t = 1.0
        while bool((w - t * step <= 0).any()) and t > 1e-12:
            t *= 0.5
        value = phi(w)
        while phi(w - t * step) > value - 1e-4 * t * (grad @ step) \
                and t > 1e-12:
            t *= 0.5
        w = w - t * step
    return w
