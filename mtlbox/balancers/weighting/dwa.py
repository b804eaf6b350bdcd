"""Dynamic weight average."""
from typing import Dict

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import BaseBalancer, Weighting, as_loss_vector


def dwa_weights(prev: Tensor, prev2: Tensor, temperature: float) -> Tensor:
    """``w = T softmax(r / temp)``, ``r_t = Lbar_t(e-1) / Lbar_t(e-2)``;
    prev, prev2 [T] epoch-mean losses -> w [T]."""
    ratio = prev / prev2.clamp_min(1e-12)
    return prev.numel() * torch.softmax(ratio / temperature, 0)


@BALANCERS.register_module()
class DWA(BaseBalancer):
    """Dynamic weight average (Liu, Johns & Davison, MTAN, CVPR 2019).

    ``w = T softmax(r / temp)`` with ``r_t = Lbar_t(e-1) / Lbar_t(e-2)``,
    the ratio of task t's mean training loss over the last two epochs;
    equal weights (1) until two epochs are complete. ``L = sum_t w_t L_t``.

    State (buffers): running sums and counts of the current epoch and the
    means of the last two epochs. Losses arrive through
    :meth:`after_train_iter`; :class:`~mtlbox.engine.BalancerHook` closes the
    epoch (:meth:`after_train_epoch`). A task absent for a whole epoch keeps
    its previous history; the softmax runs over the present tasks only, so
    T is the number of present tasks.

    Args:
        temperature: softmax temperature (2 in the paper).

    Shapes: ``{task: scalar}`` (present tasks) -> scalar total loss.
    """

    needs = 'losses'

    def __init__(self, tasks, temperature: float = 2.0):
        super().__init__(tasks)
        self.temperature = float(temperature)
        num = len(self.tasks)
        f64 = torch.float64
        self.register_buffer('epoch_sum', torch.zeros(num, dtype=f64))
        self.register_buffer('epoch_count',
                             torch.zeros(num, dtype=torch.long))
        # row 0: epoch e-1, row 1: epoch e-2
        self.register_buffer('history', torch.zeros(2, num, dtype=f64))
        self.register_buffer('epochs_seen', torch.zeros(num, dtype=torch.long))

    def weigh(self, losses: Dict[str, Tensor]) -> Weighting:
        tasks = self.present(losses)
        idx = self.index(tasks).to(self.history.device)
        vec = as_loss_vector(losses, tasks)
        if bool((self.epochs_seen[idx] >= 2).all()):
            w = dwa_weights(self.history[0, idx], self.history[1, idx],
                            self.temperature).to(vec)
        else:
            w = torch.ones_like(vec)
        return Weighting(total=(w * vec).sum(), weights=w.detach())

    def after_train_iter(self, losses: Dict[str, Tensor]) -> None:
        tasks = self.present(losses)
        idx = self.index(tasks).to(self.epoch_sum.device)
        self.epoch_sum[idx] += as_loss_vector(losses, tasks).detach().to(
            self.epoch_sum)
        self.epoch_count[idx] += 1

    def after_train_epoch(self, epoch: int) -> None:
        seen = self.epoch_count > 0
        mean = self.epoch_sum / self.epoch_count.clamp_min(1)
        self.history[1, seen] = self.history[0, seen]
        self.history[0, seen] = mean[seen]
        self.epochs_seen[seen] += 1
        self.epoch_sum.zero_()
        self.epoch_count.zero_()
