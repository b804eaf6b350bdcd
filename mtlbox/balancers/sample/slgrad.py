"""SLGrad: sample-level weighting from validation-gradient alignment."""
from typing import Iterable, Optional

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import BaseBalancer


def slgrad_weights(scores: Tensor, mask: Tensor) -> Tensor:
    """``w = max(s, 0) / sum max(s, 0)`` over the labelled entries.

    scores, mask [T, B] -> weights [T, B] (all zero when no score is
    positive: then no sample is expected to help the main task)."""
    pos = scores.clamp_min(0) * mask.to(scores.dtype)
    total = pos.sum()
    return torch.where(total > 0, pos / total.clamp_min(1e-30),
                       torch.zeros_like(pos))


@BALANCERS.register_module()
class SLGrad(BaseBalancer):
    """SLGrad (Grégoire et al., "Sample-Level Weighting for Multi-Task
    Learning with Auxiliary Tasks", 2023).

    For every training sample i and task t,
    ``s_{t,i} = <grad_theta l_{t,i}, grad_theta L_main(val batch)>`` on the
    shared parameters theta; ``w = max(s, 0)`` normalised over all (t, i);
    the step minimises ``sum_{t,i} w_{t,i} l_{t,i}`` (weights constant).
    The step (:class:`~mtlbox.engine.balanced_step.SampleStep`, which
    also records the task weights ``sum_i w_{t,i}``) gets all ``s_{t,i}``
    at once as the directional
    derivative of the per-sample losses along the validation gradient
    (a double-backward Jacobian-vector product: about two extra backward
    passes, not T x B of them).

    The held-out batches come from ``val_dataloader`` (a dataloader config,
    built with ``Runner.build_dataloader`` at the first step) or from
    :meth:`set_val_batches` (any iterable of collated batches; cycled).
    ``BalancerHook`` hands the Runner's ``val_dataloader`` to a balancer
    that has none.

    Args:
        main_task: the task whose validation loss the samples should lower.
        val_dataloader: optional dataloader config of the held-out set.

    Shapes: per-sample losses and scores [T, B] -> weights [T, B];
    the step minimises the scalar ``sum w * l``.
    """

    needs = 'samples'

    def __init__(self, tasks, main_task: str,
                 val_dataloader: Optional[dict] = None):
        super().__init__(tasks)
        if main_task not in self.tasks:
            raise KeyError(f'SLGrad main_task={main_task!r} is not one of '
                           f'{self.tasks}')
        self.main_task = main_task
        self.val_dataloader_cfg = val_dataloader
        self._val_source: Optional[Iterable] = None
        self._val_iter = None

    def set_val_batches(self, batches: Iterable) -> None:
        """Use ``batches`` (e.g. a DataLoader) as the held-out stream."""
        self._val_source, self._val_iter = batches, None

    def has_val_source(self) -> bool:
        return self._val_source is not None or \
            self.val_dataloader_cfg is not None

    def next_val_batch(self):
        if self._val_source is None:
            if self.val_dataloader_cfg is None:
                raise RuntimeError(
                    'SLGrad needs held-out batches for the main-task '
                    'gradient: set balancer=dict(type="SLGrad", '
                    'main_task=..., val_dataloader=dict(...)), train with '
                    'a val_dataloader (BalancerHook passes it) or call '
                    'set_val_batches()')
            from mmengine.runner import Runner
            self._val_source = Runner.build_dataloader(
                self.val_dataloader_cfg)
        if self._val_iter is None:
            self._val_iter = iter(self._val_source)
        try:
            return next(self._val_iter)
        except StopIteration:
            self._val_iter = iter(self._val_source)
            return next(self._val_iter)
