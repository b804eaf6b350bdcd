"""OL-AUX: online learning of auxiliary-task weights."""
from typing import Dict, List, Optional

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import Aggregation, GramianBalancer


@BALANCERS.register_module()
class OLAUX(GramianBalancer):
    """OL-AUX (Lin et al., "Adaptive Auxiliary Task Weighting for
    Reinforcement Learning", NeurIPS 2019).

    ``d = g_main + sum_k w_k g_k`` (main weight 1). Every step the inner
    products ``<g_main, g_k>`` are accumulated; every ``N`` steps the
    auxiliary weights take one step on the estimated gradient
    ``grad_{w_k} = -(1/N) sum <g_main, g_k>`` with learning rate ``eta N``
    (SGD: ``w_k += eta sum <g_main, g_k>``; or Adam), then the accumulator
    resets. Needs per-task gradients, hence ``needs='grads'``.

    State (buffers): ``aux_weights`` [T] (the main entry stays 1), the
    accumulator, the step counter and Adam moments. Steps without the main
    task add nothing to the accumulator; absent auxiliaries keep theirs.
    Ref bug not copied: the reference counter never reaches N, so its
    weights never change.

    Args:
        main_task: name of the main task.
        update_every: N (2).
        eta: learning rate factor (lr = eta N); 0.01 here.
        optimizer: ``'sgd'`` or ``'adam'``.
        init_weight: starting weight of every auxiliary task (1).
        aux_weights: optional ``{task: start weight}``.

    Shapes: G [T, P] (rows: present tasks), losses [T] -> d [P].
    """

    needs = 'grads'

    def __init__(self, tasks, main_task: str, update_every: int = 2,
                 eta: float = 0.01, optimizer: str = 'sgd',
                 init_weight: float = 1.0,
                 aux_weights: Optional[Dict[str, float]] = None):
        super().__init__(tasks)
        if main_task not in self.tasks:
            raise KeyError(f'OLAUX main_task={main_task!r} is not one of '
                           f'{self.tasks}')
        if optimizer not in ('sgd', 'adam'):
            raise ValueError(f"OLAUX optimizer={optimizer!r}: expected 'sgd'"
                             " or 'adam'")
        if update_every < 1:
            raise ValueError(f'OLAUX update_every={update_every}: must be >=1')
        self.main_task = main_task
        self.main = self.tasks.index(main_task)
        self.update_every, self.eta = int(update_every), float(eta)
        self.optimizer = optimizer
        start = torch.full((len(self.tasks),), float(init_weight))
        for task, value in (aux_weights or {}).items():
            start[self.tasks.index(task)] = float(value)
        start[self.main] = 1.0
        num = len(self.tasks)
        self.register_buffer('aux_weights', start)
        self.register_buffer('accum', torch.zeros(num, dtype=torch.float64))
        self.register_buffer('step', torch.zeros((), dtype=torch.long))
        self.register_buffer('updates', torch.zeros((), dtype=torch.long))
        self.register_buffer('exp_avg', torch.zeros(num, dtype=torch.float64))
        self.register_buffer('exp_avg_sq',
                             torch.zeros(num, dtype=torch.float64))

    def aggregate(self, grads: Tensor, losses: Tensor,
                  tasks: List[str]) -> Aggregation:
        main = tasks.index(self.main_task) if self.main_task in tasks else None
        dots = None if main is None else grads @ grads[main]
        return self._step(dots, losses, tasks)

    def aggregate_gram(self, gram: Tensor, losses: Tensor,
                       tasks: List[str]) -> Aggregation:
        main = tasks.index(self.main_task) if self.main_task in tasks else None
        return self._step(None if main is None else gram[:, main], losses,
                          tasks)

    def _step(self, dots, losses: Tensor, tasks: List[str]) -> Aggregation:
        """``dots`` [T]: ``g_t . g_main`` (None without the main task)."""
        idx = self.index(tasks).to(self.aux_weights.device)
        w = self.aux_weights[idx].to(dots if dots is not None else losses)
        if dots is not None:
            dots = dots.to(self.accum).clone()
            dots[tasks.index(self.main_task)] = 0
            self.accum[idx] += dots
        self.step += 1
        if int(self.step) % self.update_every == 0:
            self._update()
        return Aggregation(weights=w)

    def _update(self) -> None:
        lr = self.eta * self.update_every
        grad = -self.accum / self.update_every
        if self.optimizer == 'sgd':
            delta = -lr * grad
        else:
            self.updates += 1
            k = int(self.updates)
            self.exp_avg.mul_(0.9).add_(grad, alpha=0.1)
            self.exp_avg_sq.mul_(0.999).addcmul_(grad, grad, value=0.001)
            m_hat = self.exp_avg / (1 - 0.9**k)
            v_hat = self.exp_avg_sq / (1 - 0.999**k)
            delta = -lr * m_hat / (v_hat.sqrt() + 1e-8)
        delta[self.main] = 0
        self.aux_weights += delta.to(self.aux_weights)
        self.accum.zero_()


BALANCERS.register_module(name='OL-AUX', module=OLAUX)
