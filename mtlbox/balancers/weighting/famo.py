"""FAMO: fast adaptive multitask optimization."""
from typing import Dict

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import BaseBalancer, Weighting, as_loss_vector


def famo_loss(losses: Tensor, logits: Tensor, eps: float = 1e-8) -> Tensor:
    """``sum_t z_t log(L_t) / c`` with ``z = softmax(xi)``,
    ``c = sum_t z_t / L_t`` (a constant): its gradient is
    ``sum_t (z_t / (c L_t)) grad L_t``, weights summing to 1."""
    z = torch.softmax(logits, 0)
    safe = losses.clamp_min(eps)
    c = (z / safe).sum().detach()
    return (z * torch.log(safe)).sum() / c


@BALANCERS.register_module()
class FAMO(BaseBalancer):
    """FAMO (Liu et al., NeurIPS 2023).

    Task logits ``xi`` [T] (start 0), ``z = softmax(xi)``; the model is
    trained on ``sum_t z_t log L_t / c`` with ``c = sum_t z_t / L_t`` held
    constant, i.e. task weights ``z_t / (c L_t)``. After each step the
    logits move to equalise the rate at which the log-losses fall:
    ``delta_t = log L_t(k-1) - log L_t(k)``,
    ``grad_xi = J_softmax(xi)^T delta`` and one Adam step
    (lr 0.025, weight decay 0.001) on ``xi``.

    The logits have their own Adam (as in the paper), so they are buffers
    (with the Adam moments and step count), not parameters of the model's
    optimizer. Difference from the reference code: it recomputes the loss of
    the same batch after the step (an extra forward pass); we use the next
    step's loss, which costs nothing and is the same in expectation. Only
    tasks present in both steps update their logits; absent tasks keep
    theirs.

    Args:
        lr: Adam learning rate of the logits (0.025).
        weight_decay: L2 on the logits (0.001).
        betas, eps: Adam constants.

    Shapes: ``{task: scalar}`` (present tasks) -> scalar total loss.
    """

    needs = 'losses'

    def __init__(self, tasks, lr: float = 0.025, weight_decay: float = 1e-3,
                 betas=(0.9, 0.999), eps: float = 1e-8):
        super().__init__(tasks)
        self.lr, self.weight_decay = float(lr), float(weight_decay)
        self.betas, self.eps = tuple(betas), float(eps)
        num = len(self.tasks)
        self.register_buffer('logits', torch.zeros(num))
        self.register_buffer('exp_avg', torch.zeros(num))
        self.register_buffer('exp_avg_sq', torch.zeros(num))
        self.register_buffer('adam_step', torch.zeros((), dtype=torch.long))
        self.register_buffer('prev_losses',
                             torch.full((num,), float('nan')))

    def weigh(self, losses: Dict[str, Tensor]) -> Weighting:
        tasks = self.present(losses)
        idx = self.index(tasks).to(self.logits.device)
        vec = as_loss_vector(losses, tasks)
        self._update_logits(idx, vec.detach())
        logits = self.logits[idx].to(vec)
        total = famo_loss(vec, logits)
        with torch.no_grad():
            z = torch.softmax(logits, 0)
            w = z / vec.clamp_min(1e-8)
        return Weighting(total=total, weights=w / w.sum())

    def _update_logits(self, idx: Tensor, current: Tensor) -> None:
        prev = self.prev_losses[idx]
        both = ~torch.isnan(prev)
        self.prev_losses[idx] = current.to(prev)
        if not bool(both.any()):
            return
        delta = torch.zeros_like(self.logits)
        delta[idx[both]] = (torch.log(prev[both].clamp_min(1e-8)) -
                            torch.log(current.to(prev)[both].clamp_min(1e-8)))
        z = torch.softmax(self.logits, 0)
        grad = z * delta - z * (z @ delta)  # J_softmax^T delta
        grad = grad + self.weight_decay * self.logits
        self.adam_step += 1
        b1, b2 = self.betas
        step = int(self.adam_step)
        self.exp_avg.mul_(b1).add_(grad, alpha=1 - b1)
        self.exp_avg_sq.mul_(b2).addcmul_(grad, grad, value=1 - b2)
        m_hat = self.exp_avg / (1 - b1**step)
        v_hat = self.exp_avg_sq / (1 - b2**step)
        self.logits -= self.lr * m_hat / (v_hat.sqrt() + self.eps)
