"""SDMGrad: stochastic direction-oriented multi-objective gradient."""
from typing import List
import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import Aggregation, GramianBalancer
from .modo import present_simplex
from .solvers import project_simplex


def sdmgrad_weights(matrix: Tensor, w: Tensor, lamda: float = 0.3,
                    lr: float = 10.0, momentum: float = 0.5,
                    num_iter: int = 20):
    """The inner solver of SDMGrad.

    ``A = matrix / (mean_t sqrt(max(A_tt, 0)))^2`` (``A = G_1 G_2^T``, or
    ``G G^T`` with one batch); ``num_iter`` heavy-ball steps (velocity
    ``b <- momentum b + grad``, ``w <- Proj_simplex(w - lr b)``, velocity
    from 0 each call) on ``||G^T w + lamda g0||^2 / 2`` with the gradient
    ``A (w + lamda u)``, ``u = 1/T`` (``g0 = G^T u`` the mean gradient).

    matrix [T, T], w [T] (warm start) -> (new w [T], direction weights
    ``(w + lamda u) / (1 + lamda)`` [T]).
    """
    num = matrix.shape[0]
    scale = matrix.diagonal().clamp_min(0).sqrt().mean()
    A = matrix / (scale**2 + 1e-8)
    target = matrix.new_full((num, ), lamda / num)
    velocity = None
    for _ in range(num_iter):
        grad = A @ (w + target)
        velocity = grad if velocity is None else momentum * velocity + grad
        w = project_simplex(w - lr * velocity)
    return w, (w + target) / (1 + lamda)


@BALANCERS.register_module()
class SDMGrad(GramianBalancer):
    """SDMGrad (Xiao, Ban, Ji, "Direction-oriented Multi-objective
    Learning: Simple and Provable Stochastic Algorithms", NeurIPS 2023).

    ``d = (G^T w + lamda g0) / (1 + lamda)``, ``g0`` the mean gradient, with
    w in the simplex minimising ``||G^T w + lamda g0||^2 / 2`` by projected
    SGD warm-started from the last step's w (buffer, start ``1/T``), see
    :func:`sdmgrad_weights`. lamda -> 0 is MGDA, large lamda plain GD.

    Sampling: the paper estimates the inner gradient with two independent
    batches (``G_xi1 G_xi2^T``) and d with a third; mtlbox uses the step's
    single batch for all three (``A = G G^T``, one forward/backward). The
    authors' released code does the same in effect: its three gradient
    buffers are one aliased tensor, so all three hold the last batch's
    gradients. The scale normalisation and the solver are LibMTL's and
    TorchJD's (LibMTL's inner learning rate is 5, the authors' and TorchJD's
    10; the authors add 1e-4 inside the square root instead of clamping).
    The authors also multiply the shared gradient by T.

    Only the present tasks' weights move (their share of the simplex,
    written back with its mass).

    Args:
        lamda: pull towards the mean gradient (0.3: the authors' experiments
            and LibMTL; the authors' class default is 0.6).
        lr, momentum, num_iter: the inner solver (10, 0.5, 20).

    Shapes: G [T, P] (rows: present tasks), losses [T] -> d = w' @ G [P].
    """

    needs = 'grads'

    def __init__(self, tasks, lamda: float = 0.3, lr: float = 10.0,
                 momentum: float = 0.5, num_iter: int = 20):
        super().__init__(tasks)
        if lamda < 0 or lr <= 0 or not 0 <= momentum < 1 or num_iter < 1:
            raise ValueError(
                f'SDMGrad needs lamda >= 0, lr > 0, 0 <= momentum < 1, '
                f'num_iter >= 1; got lamda={lamda}, lr={lr}, '
                f'momentum={momentum}, num_iter={num_iter}')
        self.lamda, self.lr = float(lamda), float(lr)
        self.momentum, self.num_iter = float(momentum), int(num_iter)
        num = len(self.tasks)
        self.register_buffer('w', torch.full((num, ), 1.0 / num,
                                             dtype=torch.float64))

    def aggregate_gram(self, gram: Tensor, losses: Tensor,
                       tasks: List[str]) -> Aggregation:
        idx = self.index(tasks).to(self.w.device)
        w, mass = present_simplex(self.w, idx)
        gram = gram.to(w)
        w, weights = sdmgrad_weights(gram, w, self.lamda, self.lr,
                                     self.momentum, self.num_iter)
        if float(mass) > 0:
            self.w[idx] = w * mass
        return Aggregation(weights=weights.to(gram.dtype))
