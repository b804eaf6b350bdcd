"""Equal weighting."""
from typing import Dict

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import BaseBalancer, Weighting, as_loss_vector


@BALANCERS.register_module()
class EW(BaseBalancer):
    """Equal weighting: ``L = sum_t L_t`` over the present tasks (the
    plain-sum baseline of every MTL paper). ``{task: scalar}`` -> scalar."""

    needs = 'losses'

    def weigh(self, losses: Dict[str, Tensor]) -> Weighting:
        tasks = self.present(losses)
        vec = as_loss_vector(losses, tasks)
        return Weighting(total=vec.sum(), weights=torch.ones(len(tasks)))
