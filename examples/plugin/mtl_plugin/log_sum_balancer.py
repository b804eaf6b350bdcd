"""A loss balancer defined outside mtlbox."""
import torch

from mtlbox.balancers import BaseBalancer
from mtlbox.registry import BALANCERS


@BALANCERS.register_module()
class LogSum(BaseBalancer):
    """``L = sum_t log(1 + L_t)``: damps tasks with large losses.

    The effective weight of task t is ``1 / (1 + L_t)``.
    """

    needs = 'losses'

    def weigh(self, losses):
        tasks = self.present(losses)
        values = torch.stack([losses[t] for t in tasks])
        self._set_task_weights(tasks, 1.0 / (1.0 + values.detach()))
        return torch.log1p(values).sum()
