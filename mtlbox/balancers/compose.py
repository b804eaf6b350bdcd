"""Composition: loss-level weights feeding a gradient-level method."""
from typing import Dict, List, Optional

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from .base import (Aggregation, BaseBalancer, checked_aggregate,
                   checked_weigh)


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
    (returned as the Aggregation's ``parameter_loss``), exactly the
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

    def set_level(self, level: str) -> None:
        """``level=`` of the composition sets the gradient method's."""
        self.grad_method.set_level(level)

    def loss_weights(self, tasks, losses: Tensor):
        """``(w [T], weighting)``: the loss-level weights ``dF/dL_t`` at
        ``losses`` and the loss-level method's :class:`Weighting` (its
        ``total`` F keeps a graph to that method's parameters)."""
        leaves = losses.detach().clone().requires_grad_(True)
        with torch.enable_grad():
            weighting = checked_weigh(
                self.loss_weighting,
                {t: leaves[i] for i, t in enumerate(tasks)})
            (weights, ) = torch.autograd.grad(
                weighting.total, leaves, retain_graph=True,
                allow_unused=True)
        if weights is None:
            weights = torch.zeros_like(leaves)
        return weights.detach(), weighting

    def aggregate(self, grads: Tensor, losses: Tensor, tasks: List[str],
                  numels: Optional[List[int]] = None) -> Aggregation:
        """The gradient method on ``diag(w) G`` (``w = dF/dL``).

        Returns the gradient method's direction on the weighted rows;
        ``weights`` = the loss-level method's reported weights times the
        gradient method's (1 where a part reports none), the
        ``specific_weights`` ``w`` times the gradient method's, and the
        ``parameter_loss`` F (when the loss-level method has parameters)
        plus the gradient method's. The direction is given explicitly: the
        reported loss-level weights (e.g. AMTL's exponents) are in general
        not ``dF/dL``, so ``weights @ G`` is not the update. ``numels`` is
        passed on to a gradient method that takes it (GradNorm).
        """
        weights, weighting = self.loss_weights(tasks, losses)
        weights = weights.to(grads)
        weighted = grads * weights[:, None]
        part = checked_aggregate(self.grad_method, weighted, losses, tasks,
                                 numels)
        param_loss = None
        if any(p.requires_grad for p in self.loss_weighting.parameters()):
            param_loss = weighting.total
        if part.parameter_loss is not None:
            param_loss = part.parameter_loss if param_loss is None \
                else param_loss + part.parameter_loss
        specific = weights if part.specific_weights is None \
            else weights * part.specific_weights.to(weights)
        reported = torch.ones_like(weights)
        for factor in (weighting.weights, part.weights):
            if factor is not None:
                reported = reported * torch.as_tensor(factor).detach().to(
                    reported)
        return Aggregation(direction=part.combined(weighted),
                           weights=reported, specific_weights=specific,
                           parameter_loss=param_loss)

    def after_train_iter(self, losses: Dict[str, Tensor]) -> None:
        self.loss_weighting.after_train_iter(losses)
        self.grad_method.after_train_iter(losses)

    def after_train_epoch(self, epoch: int) -> None:
        self.loss_weighting.after_train_epoch(epoch)
        self.grad_method.after_train_epoch(epoch)

    def after_val(self, metrics: Dict[str, float]) -> None:
        self.loss_weighting.after_val(metrics)
        self.grad_method.after_val(metrics)
