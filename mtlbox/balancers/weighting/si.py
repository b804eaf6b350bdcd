"""SI: the scale-invariant loss, a sum of log losses."""
from typing import Dict, Optional

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import BaseBalancer, Weighting, as_loss_vector


def scale_invariant_loss(losses: Tensor, weights: Tensor) -> Tensor:
    """``sum_t w_t log L_t``; its gradient is ``sum_t (w_t / L_t) grad L_t``,
    unchanged when a loss is multiplied by a constant. losses, weights [T]
    -> scalar."""
    return (weights * torch.log(losses)).sum()


@BALANCERS.register_module()
class SI(BaseBalancer):
    """Scale-invariant linear scalarisation: ``L = sum_t w_t log L_t``
    (``w_t = 1`` by default), the baseline ``SI`` of the Nash-MTL paper
    (Navon et al., ICML 2022, whose code names it ``scaleinvls``). The
    effective weight of task t is ``w_t / L_t`` (logged). Every loss must
    be positive: a zero or negative loss raises an error naming the task.

    Args:
        weights: optional ``{task: w_t}`` (default 1 for every task).

    Shapes: ``{task: scalar}`` (present tasks) -> scalar total loss.
    """

    needs = 'losses'

    def __init__(self, tasks, weights: Optional[Dict[str, float]] = None):
        super().__init__(tasks)
        weights = dict(weights or {})
        unknown = [t for t in weights if t not in self.tasks]
        if unknown:
            raise KeyError(f'SI weights={weights}: unknown tasks {unknown} '
                           f'(tasks {self.tasks})')
        self.register_buffer('weights', torch.tensor(
            [float(weights.get(t, 1.0)) for t in self.tasks]))

    def weigh(self, losses: Dict[str, Tensor]) -> Weighting:
        tasks = self.present(losses)
        vec = as_loss_vector(losses, tasks)
        bad = (vec.detach() <= 0).tolist()
        if any(bad):
            raise ValueError(
                'SI takes log L_t and needs positive losses; got '
                + ', '.join(f'{t}={float(v):.4g}' for t, v, b in
                            zip(tasks, vec.detach(), bad) if b)
                + ' (use a loss that is > 0, or another balancer)')
        w = self.weights[self.index(tasks).to(self.weights.device)].to(vec)
        return Weighting(total=scale_invariant_loss(vec, w),
                         weights=(w / vec).detach())
