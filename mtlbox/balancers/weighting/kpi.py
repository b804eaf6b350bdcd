"""Key-performance indicators from validation metrics (DTP, AMTL)."""
from typing import Dict, List, Optional

import torch
from torch import Tensor

from ..base import BaseBalancer, Weighting, as_loss_vector
from .gls import geometric_mean

_METRIC_HELP = ('name it in metric_keys=dict(task=<metric name as the '
                'evaluator reports it, e.g. "seg/mIoU">)')


class KPITracker(torch.nn.Module):
    """EMA of each task's validation metric (higher is better, in [0, 1]).

    ``kappa_t <- (1 - momentum) kappa_t + momentum m_t``; the first value is
    taken as is. Buffers ``kappa`` [T] and ``seen`` [T] (bool).

    Args:
        tasks: task names.
        metric_keys: ``{task: metric name}``; tasks without a key keep
            kappa unset.
        momentum: EMA momentum (0.1).
        metric_scale: multiply metrics by this (0.01 for percentages).
    """

    def __init__(self, tasks: List[str], metric_keys: Dict[str, str],
                 momentum: float = 0.1, metric_scale: float = 1.0):
        super().__init__()
        unknown = [t for t in (metric_keys or {}) if t not in tasks]
        if unknown:
            raise KeyError(f'metric_keys names tasks {unknown} that are not '
                           f'in {list(tasks)}')
        self.tasks = list(tasks)
        self.metric_keys = dict(metric_keys or {})
        self.momentum = float(momentum)
        self.metric_scale = float(metric_scale)
        self.register_buffer('kappa', torch.zeros(len(tasks),
                                                  dtype=torch.float64))
        self.register_buffer('seen', torch.zeros(len(tasks),
                                                 dtype=torch.bool))

    def update(self, metrics: Dict[str, float], owner: str) -> None:
        values = {}
        for i, task in enumerate(self.tasks):  # validate all, then update
            key = self.metric_keys.get(task)
            if key is None:
                continue
            if key not in metrics:
                raise KeyError(
                    f'{owner}: metric {key!r} of task {task!r} is not among '
                    f'the validation metrics {sorted(metrics)}; '
                    + _METRIC_HELP)
            value = float(metrics[key]) * self.metric_scale
            if not 0.0 <= value <= 1.0:
                raise ValueError(
                    f'{owner}: metric {key!r} = {value} is outside [0, 1]; '
                    'if the evaluator reports percentages set '
                    'metric_scale=0.01')
            values[i] = value
        for i, value in values.items():
            if bool(self.seen[i]):
                self.kappa[i] = ((1 - self.momentum) * self.kappa[i] +
                                 self.momentum * value)
            else:
                self.kappa[i] = value
                self.seen[i] = True

    def ready(self, idx) -> bool:
        return bool(self.seen[idx].all())


def check_metric_keys(tasks, metric_keys: Optional[Dict[str, str]],
                      owner: str) -> None:
    missing = [t for t in tasks if t not in (metric_keys or {})]
    if missing:
        raise KeyError(f'{owner} needs a validation metric for every task; '
                       f'missing {missing}: ' + _METRIC_HELP)


class KPIWeighting(BaseBalancer):
    """Base of the balancers weighted by validation metrics (DTP, AMTL):
    holds the :class:`KPITracker` fed by :meth:`after_val` and combines the
    present tasks' losses with :meth:`weights` (implemented by subclasses)
    as ``'arithmetic'`` ``sum_t w_t L_t`` or ``'geometric'``
    ``prod_t L_t^{w_t}``."""

    needs = 'losses'

    def __init__(self, tasks, metric_keys: Dict[str, str], momentum: float,
                 combiner: str, metric_scale: float):
        super().__init__(tasks)
        name = type(self).__name__
        check_metric_keys(self.tasks, metric_keys, name)
        if combiner not in ('arithmetic', 'geometric'):
            raise ValueError(f"{name} combiner={combiner!r}: expected "
                             "'arithmetic' or 'geometric'")
        self.combiner = combiner
        self.kpi = KPITracker(self.tasks, metric_keys, momentum, metric_scale)

    def weights(self, tasks) -> Tensor:
        raise NotImplementedError

    def weigh(self, losses: Dict[str, Tensor]) -> Weighting:
        tasks = self.present(losses)
        vec = as_loss_vector(losses, tasks)
        w = self.weights(tasks).to(vec)
        if self.combiner == 'geometric':
            return Weighting(total=geometric_mean(vec, w), weights=w)
        return Weighting(total=(w * vec).sum(), weights=w)

    def after_val(self, metrics: Dict[str, float]) -> None:
        self.kpi.update(metrics, type(self).__name__)
