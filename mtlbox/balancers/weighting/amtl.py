"""AMTL: achievement-based multi-task loss."""
from typing import Dict

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from .kpi import KPIWeighting


def achievement_weights(kappa: Tensor, potentials: Tensor, gamma: float,
                        margin: float) -> Tensor:
    """``w = softmax((1 - min(kappa_t / (P_t (1 + margin)), 1))^gamma)``;
    kappa, potentials [T] -> w [T] (sums to 1)."""
    ratio = (kappa / (potentials * (1 + margin))).clamp(0.0, 1.0)
    return torch.softmax((1 - ratio).pow(gamma), 0)


@BALANCERS.register_module()
class AMTL(KPIWeighting):
    """Achievement-based multi-task loss (Yun & Cho, ICCV 2023).

    ``kappa_t``: EMA (momentum 0.1, first value as is) of task t's
    validation metric, updated by :meth:`after_val`. Achievement
    ``a_t = min(kappa_t / (P_t (1 + margin)), 1)`` with ``P_t`` the
    single-task "potential" metric; ``w = softmax((1 - a_t)^gamma)`` over
    the present tasks (sums to 1, constants for autograd). Uniform ``1/T``
    before the first evaluation.

    Loss: ``'geometric'`` (paper) ``prod_t L_t^{w_t}``, computed as
    ``exp(sum_t w_t log L_t)`` over the present tasks only, or
    ``'arithmetic'`` ``sum_t w_t L_t``.

    Args:
        potentials: ``{task: single-task metric}``, e.g. VMM VOC+NYU
            ``dict(det=0.5729, seg=0.7791, depth=0.8930)``.
        metric_keys: ``{task: metric name}``, e.g.
            ``dict(det='det/mAP', seg='seg/mIoU', depth='depth/delta1',
            normal='normal/11.25')``.
        gamma: focusing exponent (2). margin: potential margin (0.05).
        momentum: EMA momentum (0.1). combiner: see above.
        metric_scale: factor bringing metrics to [0, 1] (0.01 for %).

    Differences from the reference code: the ratio is clamped at 1 (a
    negative base with fractional gamma gives NaN there), and an absent task
    is left out of the product (the reference multiplies ``0 * sum(pred)``
    into it, whose log is -inf and whose gradient is NaN).

    Shapes: ``{task: scalar}`` (present tasks) -> scalar total loss.
    """

    def __init__(self, tasks, potentials: Dict[str, float],
                 metric_keys: Dict[str, str], gamma: float = 2.0,
                 margin: float = 0.05, momentum: float = 0.1,
                 combiner: str = 'geometric', metric_scale: float = 1.0):
        super().__init__(tasks, metric_keys, momentum, combiner,
                         metric_scale)
        missing = [t for t in self.tasks if t not in (potentials or {})]
        if missing:
            raise KeyError(f'AMTL potentials={potentials}: missing {missing};'
                           ' give each task its single-task metric')
        bad = {t: v for t, v in potentials.items() if not 0 < v <= 1}
        if bad:
            raise ValueError(f'AMTL potentials {bad} must lie in (0, 1]')
        self.gamma, self.margin = float(gamma), float(margin)
        self.register_buffer('potentials', torch.tensor(
            [float(potentials[t]) for t in self.tasks], dtype=torch.float64))

    def weights(self, tasks) -> Tensor:
        idx = self.index(tasks).to(self.potentials.device)
        if not self.kpi.ready(idx):
            return torch.full((len(tasks),), 1.0 / len(tasks),
                              dtype=torch.float64)
        return achievement_weights(self.kpi.kappa[idx], self.potentials[idx],
                                   self.gamma, self.margin)
