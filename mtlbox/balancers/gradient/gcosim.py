"""Gcosim: auxiliary gradients gated by their cosine with the main task."""
from typing import List

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import Aggregation, GramianBalancer


def gcosim_weights(gram: Tensor, main: int, weighted: bool = False):
    """Coefficients ``c`` [T] of ``d = c @ G``: ``c_main = 1``,
    ``c_k = 1[cos(g_main, g_k) >= 0]`` (or ``max(cos, 0)`` when
    ``weighted``); cosines from the Gram matrix [T, T]."""
    norms = gram.diagonal().clamp_min(0).sqrt()
    cos = gram[main] / (norms * norms[main]).clamp_min(1e-30)
    coef = cos.clamp_min(0) if weighted else (cos >= 0).to(gram.dtype)
    coef[main] = 1.0
    return coef


def gcosim(grads: Tensor, main: int, weighted: bool = False) -> Tensor:
    """``d = g_main + sum_{k != main} c_k g_k`` (see
    :func:`gcosim_weights`). G [T, P] -> d [P]."""
    return gcosim_weights(grads @ grads.T, main, weighted) @ grads


@BALANCERS.register_module()
class Gcosim(GramianBalancer):
    """Gradient-similarity gating (Du et al., "Adapting Auxiliary Losses
    Using Gradient Similarity", 2018): an auxiliary gradient is added only
    where its cosine with the main task's gradient is >= 0 (``weighted``:
    scaled by the cosine); see :func:`gcosim`. On the shared parameters
    (``needs='grads'``); a step without the main task uses the plain sum of
    the auxiliary gradients (no reference direction exists).

    Args: main_task, weighted (False).

    Shapes: G [T, P] (rows: present tasks), losses [T] -> d [P].
    """

    needs = 'grads'

    def __init__(self, tasks, main_task: str, weighted: bool = False):
        super().__init__(tasks)
        if main_task not in self.tasks:
            raise KeyError(f'Gcosim main_task={main_task!r} is not one of '
                           f'{self.tasks}')
        self.main_task, self.weighted = main_task, weighted

    def aggregate_gram(self, gram: Tensor, losses: Tensor,
                       tasks: List[str]) -> Aggregation:
        if self.main_task not in tasks:
            return Aggregation(weights=gram.new_ones(len(tasks)))
        return Aggregation(weights=gcosim_weights(
            gram, tasks.index(self.main_task), self.weighted))
