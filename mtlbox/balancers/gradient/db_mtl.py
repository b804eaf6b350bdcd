"""DB-MTL: dual-balancing multi-task learning."""
from typing import List

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import Aggregation, BaseBalancer


def max_norm_balance(grads: Tensor) -> Tensor:
    """``sum_t (max_s ||g_s|| / ||g_t||) g_t``: every row scaled to the
    largest row norm, then summed. G [T, P] -> d [P]."""
    norms = grads.norm(dim=1)
    scale = norms.max() / norms.clamp_min(1e-12)
    return (scale[:, None] * grads).sum(0)


@BALANCERS.register_module()
class DBMTL(BaseBalancer):
    """DB-MTL (Lin et al., "Dual-Balancing for Multi-Task Learning", 2023).

    Loss-scale balancing: task t contributes the gradient of ``log L_t``,
    i.e. ``g_t / L_t``. Gradient-magnitude balancing: an EMA
    ``h_t <- beta_k h_t + (1 - beta_k) g_t / L_t`` (``beta_k = beta /
    k^beta_sigma``, k the step), then every ``h_t`` is scaled to the largest
    norm: ``d = sum_t (max_s ||h_s|| / ||h_t||) h_t``.

    State: the EMA [T, P] (buffer, sized at the first step) and a per-task
    flag; a task's EMA starts at its first gradient (the reference starts
    from zero, which only shrinks the first steps). Absent tasks keep their
    EMA. G [T, P], losses [T] -> d [P]. Registered as ``DBMTL`` and
    ``DB-MTL``.

    In one process the step calls :meth:`aggregate_tensors`: the EMA is
    written once, straight from the per-task gradients into a second
    buffer (the two swap, so a non-finite step leaves the state as it
    was), its norms come from the same pass and ``d`` is written tensor by
    tensor: no [T, P] matrix of the gradients.

    Args:
        beta: EMA factor (0.9). beta_sigma: its decay exponent (0).
        eps: added to L_t in the division.
    """

    needs = 'grads'

    def __init__(self, tasks, beta: float = 0.9, beta_sigma: float = 0.0,
                 eps: float = 1e-8):
        super().__init__(tasks)
        self.beta, self.beta_sigma, self.eps = float(beta), \
            float(beta_sigma), float(eps)
        self.register_lazy_buffer('ema')
        # the next EMA is written here, then the two swap (not saved)
        self.register_buffer('ema_next', torch.zeros(0), persistent=False)
        self.register_buffer('seen', torch.zeros(len(self.tasks),
                                                 dtype=torch.bool))
        self.register_buffer('step', torch.zeros((), dtype=torch.long))

    def aggregate(self, grads: Tensor, losses: Tensor,
                  tasks: List[str]) -> Aggregation:
        idx = self.index(tasks).to(grads.device)
        if self.ema.shape != (self.num_tasks, grads.shape[1]):
            self.check_state_width('an EMA', self.ema.shape[-1],
                                   grads.shape[1])
            self.ema = grads.new_zeros(self.num_tasks, grads.shape[1])
            self.seen.zero_()
        self.step += 1
        beta = self.beta / float(self.step)**self.beta_sigma
        inv_loss = 1 / (losses.to(grads) + self.eps)
        if len(tasks) == self.num_tasks and bool(self.seen.all()):
            # every task present: update in place (two passes over G)
            ema = self.ema
            ema.mul_(beta).addcmul_(grads, inv_loss[:, None], value=1 - beta)
        else:
            log_grads = grads * inv_loss[:, None]
            seen = self.seen[idx][:, None]
            old = self.ema[idx]
            self.ema[idx] = torch.where(
                seen, beta * old + (1 - beta) * log_grads, log_grads)
            self.seen[idx] = True
            ema = self.ema[idx]
        norms = ema.norm(dim=1)
        scale = norms.max() / norms.clamp_min(1e-12)
        # d is a combination of the EMA rows, not of G's: a direction
        return Aggregation(direction=scale @ ema, weights=scale)

    def aggregate_tensors(self, grads, losses: Tensor,
                          tasks: List[str]) -> Aggregation:
        """:meth:`aggregate` on the per-task gradients kept per tensor
        (:class:`~mtlbox.balancers.task_grads.TaskGradients`)."""
        idx = self.index(tasks).tolist()
        p0 = grads.shared[0]
        if self.sized_state('ema', sum(p.numel() for p in grads.shared), p0,
                            'an EMA'):
            self.seen.zero_()
        beta = self.beta / (float(self.step) + 1)**self.beta_sigma
        inv_loss = (1 / (losses.double() + self.eps)).tolist()
        seen = self.seen[idx].tolist()
        decay = [beta if s else 0.0 for s in seen]
        gain = [(1 - beta) * v if s else v for s, v in zip(seen, inv_loss)]
        sq_norms = self.advance_state('ema', grads, idx, decay,
                                      gain).diagonal()
        self.step += 1
        self.seen[idx] = True
        norms = sq_norms.sqrt()
        scale = norms.max() / norms.clamp_min(1e-12)
        return Aggregation(direction=grads.combine_state(self.ema, idx, scale),
                           weights=scale.to(p0.dtype))


BALANCERS.register_module(name='DB-MTL', module=DBMTL)
