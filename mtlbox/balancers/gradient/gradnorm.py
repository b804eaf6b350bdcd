"""GradNorm: gradient normalization."""
from typing import List, Optional, Union

import torch
from torch import Tensor, nn

from mtlbox.registry import BALANCERS
from ..base import Aggregation, BaseBalancer


def gradnorm_loss(weights: Tensor, norms: Tensor, losses: Tensor,
                  initial: Tensor, alpha: float) -> Tensor:
    """``L_grad = sum_t |w_t n_t - stopgrad(mean_j(w_j n_j) r_t^alpha)|``
    with ``n_t = ||grad_W L_t||`` (so ``G_t = ||grad_W (w_t L_t)|| =
    w_t n_t``), ``r_t = (L_t / L_t(0)) / mean_j (L_j / L_j(0))``.
    All [T]; only ``weights`` carries a graph."""
    ratio = losses / initial
    rel = ratio / ratio.mean()
    scaled = weights * norms
    target = (scaled.mean() * rel.pow(alpha)).detach()
    return (scaled - target).abs().sum()


@BALANCERS.register_module()
class GradNorm(BaseBalancer):
    """GradNorm (Chen et al., ICML 2018).

    Learnable task weights ``w`` [T] (parameter ``weights``, start 1). Each
    step the shared update is ``d = sum_t w_t g_t`` (task-specific
    parameters get ``w_t`` times their own gradient) and ``w`` is trained on
    ``L_grad`` (:func:`gradnorm_loss`), not on the task loss: G's rows are
    the unweighted gradients, so ``||grad_W (w_t L_t)|| = w_t n_t`` is an
    exact, cheap function of ``w``; ``aggregate`` returns ``L_grad`` as the
    Aggregation's ``parameter_loss``, the step back-propagates it
    into ``weights.grad`` only, and the Runner's optimizer steps ``w`` with
    the model (tune its rate with ``paramwise_cfg=dict(custom_keys=
    {'balancer': dict(lr_mult=..., decay_mult=0)})``). Before each use the
    weights are renormalised to ``sum_t w_t = T`` (i.e. after every
    optimizer update).

    ``n_t``: with ``norm_on='all'`` (default) the norm of the whole row
    ``g_t`` (G is already computed, so this costs nothing and does not
    depend on which layer happens to be last); with ``norm_on=k`` (int) the
    norm over the last k shared parameter tensors (e.g. 2 = weight and bias
    of the last shared layer, the paper's choice of W).

    ``L_t(0)`` is the task's loss at its first step (buffer). Absent tasks
    are left out of ``r`` and ``L_grad``; their weight is kept.

    Ref bugs not copied: weights that never train, ``L(0)`` fixed at 0.

    Args: alpha (1.5), norm_on ('all' or int).

    Shapes: G [T, P] (rows: present tasks), losses [T] -> d [P].
    """

    needs = 'grads'

    def __init__(self, tasks, alpha: float = 1.5,
                 norm_on: Union[str, int] = 'all'):
        super().__init__(tasks)
        if norm_on != 'all' and not (isinstance(norm_on, int) and norm_on > 0):
            raise ValueError(f"GradNorm norm_on={norm_on!r}: expected 'all' "
                             'or a positive number of last shared tensors')
        self.alpha, self.norm_on = float(alpha), norm_on
        self.weights = nn.Parameter(torch.ones(len(self.tasks)))
        self.register_buffer('initial_losses',
                             torch.full((len(self.tasks),), float('nan')))

    def _norm_columns(self, grads: Tensor,
                      numels: Optional[List[int]]) -> Tensor:
        if self.norm_on == 'all':
            return grads
        if not numels:
            raise RuntimeError(
                f'GradNorm norm_on={self.norm_on} needs numels= (the numel of'
                ' each shared parameter tensor, which the grads step passes);'
                ' use norm_on="all" when calling aggregate() without it')
        width = sum(numels[-self.norm_on:])
        return grads[:, grads.shape[1] - width:]

    @property
    def gramian(self) -> bool:
        # norm_on='all': n_t = sqrt(M_tt), so the Gram matrix suffices
        return self.norm_on == 'all'

    def set_level(self, level: str) -> None:
        if level == 'features' and self.norm_on != 'all':
            raise ValueError(
                f"GradNorm norm_on={self.norm_on} picks the last shared "
                "parameter tensors, which level='features' does not have: "
                "use norm_on='all' there")
        super().set_level(level)

    def aggregate(self, grads: Tensor, losses: Tensor, tasks: List[str],
                  numels: Optional[List[int]] = None) -> Aggregation:
        """``numels``: the numel of each shared tensor, in G's column order
        (given by the step; needed for ``norm_on=k``)."""
        norms = self._norm_columns(grads, numels).norm(dim=1)
        return self._step(norms, losses, tasks)

    def aggregate_gram(self, gram: Tensor, losses: Tensor,
                       tasks: List[str]) -> Aggregation:
        """``norm_on='all'`` only: ``n_t = sqrt(M_tt)``."""
        if self.norm_on != 'all':
            raise RuntimeError(
                f'GradNorm norm_on={self.norm_on} needs the gradient columns '
                'of the last shared tensors, not only the Gram matrix')
        return self._step(gram.diagonal().clamp_min(0).sqrt(), losses, tasks)

    def _step(self, norms: Tensor, losses: Tensor,
              tasks: List[str]) -> Aggregation:
        """``norms`` [T]: ``n_t``, the norm of each task's gradient."""
        idx = self.index(tasks).to(self.weights.device)
        with torch.no_grad():
            self.weights.mul_(self.num_tasks / self.weights.sum())
        init = self.initial_losses[idx]
        init = torch.where(torch.isnan(init), losses.to(init), init)
        self.initial_losses[idx] = init
        w = self.weights[idx]
        norms = norms.detach().to(w)
        grad_loss = gradnorm_loss(
            w, norms, losses.detach().to(w), init.to(w).clamp_min(1e-12),
            self.alpha)
        w_now = w.detach().to(norms.dtype)
        return Aggregation(weights=w_now, specific_weights=w_now,
                           parameter_loss=grad_loss)
