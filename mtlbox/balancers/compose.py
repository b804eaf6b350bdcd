"""Composition: loss-level weights feeding a gradient-level method."""
from typing import Dict

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from .base import BaseBalancer


@BALANCERS.register_module()
class Compose(BaseBalancer):
    """A loss-level balancer's weights feeding a gradient-level method, e.g.
    ``dict(type='Compose', loss_weighting=dict(type='AMTL', ...),
    grad_method=dict(type='PCGrad'))``.

    Each step the loss-level method's total ``F(L_1..L_T)`` (its
    :meth:`weigh`) is evaluated on detached copies of the losses; its exact
    linear weights are ``w_t = dF/dL_t`` (``w_t`` for a weighted sum,
    ``F / (T L_t)``-like factors for geometric or power means), so
    ``w_t g_t`` is the gradient of task t's term of F. The gradient method
    then aggregates ``diag(w) G``; the task-specific parameters receive
    ``w_t`` times their own gradient. A loss-level method with learnable
    parameters (UW, IMTL-L) is trained on F with the losses held constant
    (handed to the engine as the balancer's parameter loss), exactly the
    gradient it gets when used alone. Its epoch/validation hooks are
    forwarded, and both methods' state is checkpointed (submodules
    ``loss_weighting`` and ``grad_method``).

    ``needs`` is the gradient method's (``'grads'`` or ``'features'``).
    G [T, P], losses [T] -> d [P].
    """

    def __init__(self, tasks, loss_weighting: dict, grad_method: dict):
        super().__init__(tasks)
        self.loss_weighting = BALANCERS.build(
            dict(loss_weighting, tasks=self.tasks))
        self.grad_method = BALANCERS.build(dict(grad_method, tasks=self.tasks))
        if self.loss_weighting.needs != 'losses':
            raise ValueError(
                f'Compose loss_weighting={loss_weighting}: needs a loss-level'
                f" balancer (needs='losses'), got "
                f'{self.loss_weighting.needs!r}')
        if self.grad_method.needs not in ('grads', 'features'):
            raise ValueError(
                f'Compose grad_method={grad_method}: needs a gradient-level '
                f"balancer (needs='grads' or 'features'), got "
                f'{self.grad_method.needs!r}')

    @property
    def needs(self) -> str:
        """The gradient method's family (``'grads'`` or ``'features'``)."""
        return self.grad_method.needs

    @property
    def shared_numels(self):
        return getattr(self.grad_method, 'shared_numels', None)

    @shared_numels.setter
    def shared_numels(self, value):
        if hasattr(self.grad_method, 'shared_numels'):
            self.grad_method.shared_numels = value

    def loss_weights(self, tasks, losses: Tensor):
        """``(w [T], F)``: the loss-level weights ``dF/dL_t`` at ``losses``
        and F (with a graph to the loss-level method's parameters)."""
        leaves = losses.detach().clone().requires_grad_(True)
        with torch.enable_grad():
            total = self.loss_weighting.weigh(
                {t: leaves[i] for i, t in enumerate(tasks)})
            (weights, ) = torch.autograd.grad(
                total, leaves, retain_graph=True, allow_unused=True)
        if weights is None:
            weights = torch.zeros_like(leaves)
        return weights.detach(), total

    def aggregate(self, grads: Tensor, losses: Tensor) -> Tensor:
        tasks = self.rows(grads.shape[0])
        weights, total = self.loss_weights(tasks, losses)
        if any(p.requires_grad for p in self.loss_weighting.parameters()):
            self._parameter_loss = total
        weights = weights.to(grads)
        inner = self.grad_method
        inner.step_tasks, inner.specific_weights = tasks, None
        try:
            combined = inner.aggregate(grads * weights[:, None], losses)
        finally:
            inner.step_tasks = None
        own = inner.pop_parameter_loss()
        if own is not None:
            self._parameter_loss = own if self._parameter_loss is None \
                else self._parameter_loss + own
        inner_w = inner.specific_weights
        self.specific_weights = weights if inner_w is None \
            else weights * inner_w.to(weights)
        self.task_weights = {
            t: self.loss_weighting.task_weights.get(t, 0.0) *
            inner.task_weights.get(t, 1.0)
            for t in self.tasks
        }
        return combined

    def after_train_iter(self, losses: Dict[str, Tensor]) -> None:
        self.loss_weighting.after_train_iter(losses)
        self.grad_method.after_train_iter(losses)

    def after_train_epoch(self, epoch: int) -> None:
        self.loss_weighting.after_train_epoch(epoch)
        self.grad_method.after_train_epoch(epoch)

    def after_val(self, metrics: Dict[str, float]) -> None:
        self.loss_weighting.after_val(metrics)
        self.grad_method.after_val(metrics)
