"""A loss balancer defined outside mtlbox."""
import torch

from mtlbox.balancers import BaseBalancer, Weighting
from mtlbox.registry import BALANCERS


@BALANCERS.register_module()
class LogSum(BaseBalancer):
    """``L = sum_t log(1 + L_t)``: damps tasks with large losses.

    The effective weight of task t is ``1 / (1 + L_t)`` (returned in the
    Weighting; the step logs it as ``<task>.weight``).
    """

    needs = 'losses'

    def weigh(self, losses):
        tasks = self.present(losses)
        values = torch.stack([losses[t] for t in tasks])
        return Weighting(total=torch.log1p(values).sum(),
                         weights=1.0 / (1.0 + values.detach()))
