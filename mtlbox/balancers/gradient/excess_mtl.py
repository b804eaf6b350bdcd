"""ExcessMTL: task weights from estimated excess risks."""
import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import Aggregation, BaseBalancer


def excess_risk(grads: Tensor, sq_sum: Tensor, eps: float = 1e-7) -> Tensor:
    """``e_t = g_t^T diag(sqrt(S_t + eps))^{-1} g_t``: the Taylor estimate of
    task t's excess risk with the diagonal (AdaGrad-style) empirical
    Fisher ``S_t = sum_k g_t(k)^2`` as Hessian. G, S [T, P] -> e [T]."""
    return torch.linalg.vecdot(grads * (sq_sum + eps).rsqrt(), grads)


def accumulate_excess_risk(grads: Tensor, sq_sum: Tensor, eps: float = 1e-7,
                           block: int = 1 << 17) -> Tensor:
    """``S += G^2`` in place, then :func:`excess_risk` of the new S, in
    blocks of ``block`` columns so the temporaries stay in cache (one pass
    over G and S instead of a dozen: 5x faster for P = 1e7 on a CPU).
    G, S [T, P] -> e [T]."""
    out = grads.new_zeros(grads.shape[0])
    for start in range(0, grads.shape[1], block):
        g = grads[:, start:start + block]
        s = sq_sum[:, start:start + block]
        s.addcmul_(g, g)
        scaled = s.add(eps).rsqrt_().mul_(g)
        out += torch.linalg.vecdot(scaled, g)
    return out


def exponentiated_update(weights: Tensor, ratios: Tensor,
                         step_size: float) -> Tensor:
    """``w <- T w e^{eta r} / sum(w e^{eta r})`` in log space (no overflow
    for a huge ratio). weights, ratios [T] -> weights [T] summing to T."""
    logits = torch.log(weights) + step_size * ratios
    return weights.numel() * torch.softmax(logits, 0)


@BALANCERS.register_module()
class ExcessMTL(BaseBalancer):
    """ExcessMTL (He, Zhou, Zhao, Ji, "Robust Multi-Task Learning with
    Excess Risks", ICML 2024).

    Per task t: ``S_t += g_t^2`` (buffer [T, P]), the excess risk estimate
    ``e_t`` (:func:`excess_risk`, computed blockwise by
    :func:`accumulate_excess_risk`), its first value ``e_t(0)`` kept as the
    scale; from the second step on ``r_t = e_t / e_t(0)`` and an
    exponentiated-gradient step ``w <- T w e^{eta r} / sum(w e^{eta r})``
    (start ``w = 1``, no update at the first step). The model is trained on
    ``sum_t w_t L_t``: shared gradient ``w @ G`` and heads scaled by w
    (``specific_weights``), as LibMTL (the authors' fork) does.

    As the authors' / LibMTL code: no 1/2 in the Taylor estimate, the scale
    is the very first step's estimate (the flag named ``first_epoch`` there
    means the first iteration). TorchJD's variant starts from ``1/T`` and
    updates already at the first step. A task absent at its first step
    stores its scale when it first appears; the renormalisation runs over
    all tasks (absent ones have ``r = 0``).

    Memory: S is one extra [T, P] copy of the gradients (on G's device).

    Args:
        step_size: eta (LibMTL's ``robust_step_size``, 1e-2).

    Shapes: G [T, P] (rows: present tasks), losses [T] -> d = w @ G [P].
    """

    needs = 'grads'

    def __init__(self, tasks, step_size: float = 1e-2):
        super().__init__(tasks)
        if step_size <= 0:
            raise ValueError(f'ExcessMTL: step_size must be > 0, got '
                             f'{step_size}')
        self.step_size = float(step_size)
        num = len(self.tasks)
        self.register_buffer('loss_weights', torch.ones(num,
                                                        dtype=torch.float64))
        self.register_buffer('initial_risk',
                             torch.full((num, ), float('nan'),
                                        dtype=torch.float64))
        self.register_lazy_buffer('sq_grad_sum')

    def aggregate(self, grads: Tensor, losses: Tensor, tasks) -> Aggregation:
        idx = self.index(tasks).to(grads.device)
        if self.sq_grad_sum.numel() == 0:
            self.sq_grad_sum = grads.new_zeros(self.num_tasks, grads.shape[1])
        elif self.sq_grad_sum.shape[1] != grads.shape[1]:
            raise ValueError(
                f'ExcessMTL: G has {grads.shape[1]} columns but the '
                f'accumulated squared gradients have '
                f'{self.sq_grad_sum.shape[1]} (the shared parameters '
                'changed since the state was made or loaded)')
        grads = grads.detach()
        if len(tasks) == self.num_tasks:  # all present: in place
            risk = accumulate_excess_risk(grads, self.sq_grad_sum)
        else:
            sums = self.sq_grad_sum[idx]
            risk = accumulate_excess_risk(grads, sums)
            self.sq_grad_sum[idx] = sums
        risk = risk.double()
        initial = self.initial_risk[idx]
        seen = ~torch.isnan(initial)
        if bool(seen.any()):
            ratios = torch.zeros_like(self.loss_weights)
            ratios[idx[seen]] = risk[seen] / initial[seen].clamp_min(1e-30)
            self.loss_weights = exponentiated_update(
                self.loss_weights, ratios, self.step_size)
        self.initial_risk[idx] = torch.where(seen, initial, risk)
        weights = self.loss_weights[idx].to(grads.dtype)
        return Aggregation(weights=weights, specific_weights=weights)
