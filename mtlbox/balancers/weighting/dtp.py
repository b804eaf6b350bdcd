"""Dynamic task prioritization."""
from typing import Dict

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from .kpi import KPIWeighting


def focal_priority(kappa: Tensor, gamma: float, eps: float = 1e-6) -> Tensor:
    """``w_t = -(1 - kappa_t)^gamma log(kappa_t)``; kappa [T] in [0, 1]."""
    kappa = kappa.clamp(eps, 1.0)
    return -(1 - kappa).pow(gamma) * torch.log(kappa)


@BALANCERS.register_module()
class DTP(KPIWeighting):
    """Dynamic task prioritization (Guo et al., ECCV 2018).

    ``kappa_t`` is an EMA (momentum 0.1, first value as is) of task t's
    validation metric in [0, 1] (higher is better), updated by
    :meth:`after_val` (``BalancerHook`` calls it after each evaluation).
    ``w_t = -(1 - kappa_t)^gamma log kappa_t`` (focal-loss priority).

    Combiners: ``'arithmetic'`` ``L = sum_t w_t L_t`` (paper) or
    ``'geometric'`` ``L = prod_t L_t^{w_t} = exp(sum_t w_t log L_t)``.
    Before the first evaluation: ``w = 1`` (arithmetic) or ``1/T``
    (geometric).

    Args:
        metric_keys: ``{task: metric name}``, e.g. ``dict(seg='seg/mIoU')``.
        gamma: focusing parameter (0.5).
        momentum: EMA momentum of kappa (0.1).
        combiner: ``'arithmetic'`` or ``'geometric'``.
        metric_scale: factor bringing metrics to [0, 1] (0.01 for %).

    Shapes: ``{task: scalar}`` (present tasks) -> scalar total loss.
    """

    def __init__(self, tasks, metric_keys: Dict[str, str],
                 gamma: float = 0.5, momentum: float = 0.1,
                 combiner: str = 'arithmetic', metric_scale: float = 1.0):
        super().__init__(tasks, metric_keys, momentum, combiner,
                         metric_scale)
        self.gamma = float(gamma)

    def weights(self, tasks) -> Tensor:
        idx = self.index(tasks).to(self.kpi.kappa.device)
        if not self.kpi.ready(idx):
            value = 1.0 if self.combiner == 'arithmetic' else 1.0 / len(tasks)
            return torch.full((len(tasks),), value, dtype=torch.float64)
        return focal_priority(self.kpi.kappa[idx], self.gamma)
