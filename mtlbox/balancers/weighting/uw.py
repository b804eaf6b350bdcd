"""Uncertainty weighting."""
from typing import Dict

import torch
from torch import Tensor, nn

from mtlbox.registry import BALANCERS
from ..base import BaseBalancer, Weighting, as_loss_vector


def uncertainty_loss(losses: Tensor, log_vars: Tensor) -> Tensor:
    """``sum_t L_t / (2 exp(s_t)) + s_t / 2`` for losses [T], s [T]."""
    return (losses * torch.exp(-log_vars) / 2 + log_vars / 2).sum()


@BALANCERS.register_module()
class UW(BaseBalancer):
    """Uncertainty weighting (Kendall, Gal & Cipolla, CVPR 2018).

    ``L = sum_t L_t / (2 e^{s_t}) + s_t / 2`` with learnable
    ``s_t = log sigma_t^2`` (parameter ``log_vars`` [T], start
    ``init_log_var``). ``s`` is a parameter of the model, so the Runner's
    optimizer trains it with the task loss (as in the paper). Absent tasks
    contribute nothing and their ``s_t`` gets no gradient.

    The paper writes ``1/(2 sigma^2)`` for regression and ``1/sigma^2`` for
    classification; like LibMTL and most reproductions we use the
    regression form for every task.

    Shapes: ``{task: scalar}`` (present tasks) -> scalar total loss.
    """

    needs = 'losses'

    def __init__(self, tasks, init_log_var: float = 0.0):
        super().__init__(tasks)
        self.log_vars = nn.Parameter(
            torch.full((len(self.tasks),), float(init_log_var)))

    def weigh(self, losses: Dict[str, Tensor]) -> Weighting:
        tasks = self.present(losses)
        s = self.log_vars[self.index(tasks).to(self.log_vars.device)]
        total = uncertainty_loss(as_loss_vector(losses, tasks), s)
        return Weighting(total=total, weights=(torch.exp(-s) / 2).detach())
