"""Geometric loss strategy."""
from typing import Dict

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import BaseBalancer, Weighting, as_loss_vector


def geometric_mean(losses: Tensor, weights: Tensor = None,
                   eps: float = 1e-12) -> Tensor:
    """``prod_t L_t^{w_t} = exp(sum_t w_t log L_t)`` (w default 1/T).

    Losses are clamped at ``eps`` inside the log so an exact zero gives a
    finite (zero) gradient rather than NaN.
    """
    if weights is None:
        weights = torch.full_like(losses, 1.0 / losses.numel())
    return torch.exp((weights * torch.log(losses.clamp_min(eps))).sum())


@BALANCERS.register_module()
class GLS(BaseBalancer):
    """Geometric loss strategy (Chennupati et al., CVPR-W 2019):
    ``L = (prod_t L_t)^{1/T}`` over the T present tasks, computed as
    ``exp(mean_t log L_t)``. Its gradient weighs task t by ``L / (T L_t)``
    (reported in ``task_weights``).

    Shapes: ``{task: scalar}`` (present tasks) -> scalar total loss.
    """

    needs = 'losses'

    def weigh(self, losses: Dict[str, Tensor]) -> Weighting:
        tasks = self.present(losses)
        vec = as_loss_vector(losses, tasks)
        total = geometric_mean(vec)
        weights = total.detach() / (len(tasks) *
                                    vec.detach().clamp_min(1e-12))
        return Weighting(total=total, weights=weights)
