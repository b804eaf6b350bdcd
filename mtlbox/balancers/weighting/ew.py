"""Equal weighting."""
from typing import Dict

from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import BaseBalancer, as_loss_vector


@BALANCERS.register_module()
class EW(BaseBalancer):
    """Equal weighting: ``L = sum_t L_t`` over the present tasks (the
    plain-sum baseline of every MTL paper). ``{task: scalar}`` -> scalar."""

    needs = 'losses'

    def weigh(self, losses: Dict[str, Tensor]) -> Tensor:
        tasks = self.present(losses)
        self._set_task_weights(tasks, [1.0] * len(tasks))
        return as_loss_vector(losses, tasks).sum()
