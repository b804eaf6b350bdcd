"""Auto-Lambda: task weights meta-learned on a look-ahead step."""
from typing import Dict, Iterable, List, Optional, Sequence

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import BaseBalancer, Weighting, as_loss_vector
from ..sample.slgrad import SLGrad


def finite_difference_hypergradient(plus: Tensor, minus: Tensor, eps: float,
                                    lr: float) -> Tensor:
    """``dL_pri(theta') / dlambda_t ~ -lr (L_t(theta+) - L_t(theta-)) /
    (2 eps)`` with ``theta+- = theta +- eps v``, ``v = grad L_pri(theta')``:
    the central difference of the directional derivative
    ``<grad L_t(theta), v>``, which is the exact hypergradient
    ``-lr <g_t, v>`` of ``theta' = theta - lr sum_t lambda_t g_t``
    (lambda enters linearly), to O(eps^2). plus, minus [T] -> [T]."""
    return -lr * (plus - minus) / (2 * eps)


@BALANCERS.register_module(name='AutoLambda')
class AutoLambda(BaseBalancer):
    """Auto-Lambda (Liu, Johns, Davison, "Auto-Lambda: Disentangling
    Dynamic Task Relationships", TMLR 2022).

    The model is trained on ``sum_t lambda_t L_t``; lambda (buffer, start
    ``init``, unconstrained) is updated *before* each model step to lower
    the primary tasks' loss after a virtual step:
    ``min_lambda L_pri(theta')``, ``theta' = theta - lr grad_theta sum_t
    lambda_t L_t(train batch)`` (all trainable parameters, heads included),
    ``L_pri`` the summed loss of ``primary`` on a held-out batch. The step
    family ``'meta'`` (:class:`~mtlbox.engine.meta_step.MetaStep`) does:

    1. ``theta' = theta - lr (grad + weight_decay theta + momentum buf)``,
       the optimizer's next SGD step (for another optimizer, ``lr grad``);
    2. ``v = grad_{theta'} L_pri(held-out batch)``;
    3. the hypergradient by the DARTS central difference, as the reference:
       ``eps = 0.01 / ||v||``, ``theta+- = theta +- eps v``,
       ``grad_lambda_t = -lr (L_t(theta+) - L_t(theta-)) / (2 eps)`` on the
       training batch (:func:`finite_difference_hypergradient`). Because
       lambda enters theta' linearly, this approximates the exact one-step
       hypergradient ``-lr <g_t(theta), v>`` to O(eps^2), without the T
       per-task gradients it would take; the look-ahead is one step (the
       approximation of the paper, which does not unroll further);
    4. one Adam step on lambda (lr ``lr``, betas (0.9, 0.999));
    5. the ordinary step on ``sum_t lambda_t L_t`` with the new lambda.

    Cost per step, on top of a plain step: one extra backward of the
    training loss (the virtual step), one forward + backward on the held-out
    batch, two forwards of the training batch (the reference's cost):
    3.9x an EW step (median; 1.5x the gradient-level floor) on the CPU demo
    benchmark (``tools/benchmark/balancers.py``, batch 4). The extra
    forwards run on copies of the parameters and BatchNorm statistics
    (:func:`torch.func.functional_call`), so the model's running statistics
    see each batch once.

    The held-out batches come from ``val_dataloader`` (a dataloader config),
    :meth:`set_val_batches`, or ``BalancerHook`` hands over the Runner's
    validation loader. The authors draw them from a second shuffled loader
    over the *training* set; give that as ``val_dataloader`` to follow them.

    Args:
        primary: the tasks whose held-out loss lambda should lower (default
            all: the paper's multi-task setting).
        init: initial lambda (0.1, the reference's ``autol_init``).
        lr: Adam learning rate of lambda (1e-4, the reference for NYUv2;
            3e-5 CityScapes, 3e-4 CIFAR-100 in its README).
        val_dataloader: optional dataloader config of the held-out stream.

    Shapes: ``{task: scalar}`` (present tasks) -> scalar total loss.
    """

    needs = 'meta'

    def __init__(self, tasks, primary: Optional[Sequence[str]] = None,
                 init: float = 0.1, lr: float = 1e-4, betas=(0.9, 0.999),
                 eps: float = 1e-8, val_dataloader: Optional[dict] = None):
        super().__init__(tasks)
        primary = list(self.tasks if primary is None else primary)
        unknown = [t for t in primary if t not in self.tasks]
        if unknown or not primary:
            raise KeyError(f'AutoLambda primary={primary}: give one or more '
                           f'of the tasks {self.tasks}')
        self.primary = primary
        self.lr, self.betas, self.eps = float(lr), tuple(betas), float(eps)
        num = len(self.tasks)
        self.register_buffer('lambdas', torch.full((num, ), float(init)))
        self.register_buffer('exp_avg', torch.zeros(num))
        self.register_buffer('exp_avg_sq', torch.zeros(num))
        self.register_buffer('adam_step', torch.zeros((), dtype=torch.long))
        self.val_dataloader_cfg = val_dataloader
        self._val_source: Optional[Iterable] = None
        self._val_iter = None

    def weigh(self, losses: Dict[str, Tensor]) -> Weighting:
        tasks = self.present(losses)
        vec = as_loss_vector(losses, tasks)
        w = self.lambdas[self.index(tasks).to(self.lambdas.device)].to(vec)
        return Weighting(total=(w * vec).sum(), weights=w.detach())

    def update(self, tasks: List[str], hypergradient: Tensor) -> None:
        """One Adam step on the lambdas of ``tasks`` (the others' gradient
        is 0; their moments decay as Adam's do)."""
        grad = torch.zeros_like(self.lambdas)
        grad[self.index(tasks).to(grad.device)] = hypergradient.to(grad)
        self.adam_step += 1
        step = int(self.adam_step)
        b1, b2 = self.betas
        self.exp_avg.mul_(b1).add_(grad, alpha=1 - b1)
        self.exp_avg_sq.mul_(b2).addcmul_(grad, grad, value=1 - b2)
        m_hat = self.exp_avg / (1 - b1**step)
        v_hat = self.exp_avg_sq / (1 - b2**step)
        self.lambdas -= self.lr * m_hat / (v_hat.sqrt() + self.eps)

    # ------------------------------------------------ held-out batches
    # the same stream as SLGrad's (``val_dataloader`` config, or
    # ``set_val_batches``; cycled; BalancerHook fills it)
    set_val_batches = SLGrad.set_val_batches
    has_val_source = SLGrad.has_val_source

    def next_val_batch(self):
        if not self.has_val_source():
            raise RuntimeError(
                'AutoLambda needs held-out batches for its look-ahead: '
                'give balancer=dict(type="AutoLambda", val_dataloader='
                'dict(...)) (the authors use a second shuffled loader over '
                'the training set), train with a val_dataloader '
                '(BalancerHook passes it) or call set_val_batches()')
        return SLGrad.next_val_batch(self)

    def extra_repr(self) -> str:
        return f'tasks={self.tasks}, primary={self.primary}'
