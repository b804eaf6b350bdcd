"""Gradient-level balancers whose weights depend on the Gram matrix only."""
from torch import Tensor

from ..base import BaseBalancer


class GramWeighting(BaseBalancer):
    """``d = w(G G^T) @ G``: the task weights are a function of the Gram
    matrix of the present tasks' gradients alone (Aligned-MTL, IMTL-G,
    UPGrad). Subclasses set :meth:`gram_weights` (Gram [T, T] -> w [T]).
    G [T, P] -> d [P]."""

    needs = 'grads'

    @staticmethod
    def gram_weights(gram: Tensor) -> Tensor:
        raise NotImplementedError

    def aggregate(self, grads: Tensor, losses: Tensor) -> Tensor:
        tasks = self.rows(grads.shape[0])
        weights = self.gram_weights(grads @ grads.T)
        self._set_task_weights(tasks, weights)
        return weights @ grads
