"""Fixed task weights."""
from typing import Dict

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import BaseBalancer, Weighting, as_loss_vector


@BALANCERS.register_module()
class Fixed(BaseBalancer):
    """Fixed weights: ``L = sum_t w_t L_t`` over the present tasks.

    Args:
        tasks: task names.
        weights: ``{task: w_t}``; every task needs a weight.

    Shapes: ``{task: scalar}`` -> scalar. Absent tasks simply drop out (the
    other weights are not renormalised: they are the user's choice).
    """

    needs = 'losses'

    def __init__(self, tasks, weights: Dict[str, float]):
        super().__init__(tasks)
        missing = [t for t in self.tasks if t not in (weights or {})]
        unknown = [t for t in (weights or {}) if t not in self.tasks]
        if missing or unknown:
            raise KeyError(f'Fixed weights={weights}: missing {missing}, '
                           f'unknown {unknown}; give one weight per task of '
                           f'{self.tasks}')
        self.register_buffer(
            'weights',
            torch.tensor([float(weights[t]) for t in self.tasks]))

    def weigh(self, losses: Dict[str, Tensor]) -> Weighting:
        tasks = self.present(losses)
        w = self.weights[self.index(tasks)]
        total = (w.to(losses[tasks[0]].dtype) *
                 as_loss_vector(losses, tasks)).sum()
        return Weighting(total=total, weights=w)
