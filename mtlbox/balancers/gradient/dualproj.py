"""DualProj: the mean gradient projected onto the dual cone."""
from typing import List, Optional, Sequence

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import Aggregation, GramianBalancer
from .solvers import box_qp


def dualproj_weights(gram: Tensor, preference: Optional[Tensor] = None,
                     norm_eps: float = 0.0, reg_eps: float = 0.0) -> Tensor:
    """Weights w with ``G^T w`` the projection of ``G^T u`` onto the dual
    cone ``{x : G x >= 0}`` (u = preference, default ``1/T``).

    ``min_x ||x - G^T u||^2 s.t. G x >= 0`` has the dual
    ``w = argmin_{v >= u} v^T M' v`` with ``x = G^T w`` (GEM, eq. 11), solved
    exactly by :func:`box_qp` (whose own ridge is relative to each task's
    norm). ``M' = M / trace(M) + reg_eps I`` (``M' = reg_eps I`` when
    ``trace(M) < norm_eps`` or 0); TorchJD uses ``norm_eps = reg_eps =
    1e-4``, a ridge relative to the *largest* gradients that lets
    ``g_t . d`` go negative for a task 1e4 times smaller than another.
    gram [T, T] -> w [T].
    """
    num = gram.shape[0]
    if preference is None:
        preference = gram.new_full((num, ), 1.0 / num)
    preference = preference.to(gram)
    trace = gram.trace()
    eye = torch.eye(num, dtype=gram.dtype, device=gram.device)
    if float(trace) < norm_eps or float(trace) == 0:
        normalised = torch.zeros_like(gram)
    else:
        normalised = gram / trace
    return box_qp(normalised + reg_eps * eye, preference[None])[0]


@BALANCERS.register_module()
class DualProj(GramianBalancer):
    """DualProj (TorchJD, Quinton & Rey, "Jacobian Descent for
    Multi-Objective Optimization", 2024; the projection of GEM, Lopez-Paz &
    Ranzato, NeurIPS 2017): ``d = pi(G^T u)``, the weighted mean gradient
    projected onto the dual cone of the task gradients, so
    ``g_t . d >= 0`` for every task (:func:`dualproj_weights`). UPGrad
    projects each ``g_t`` instead and averages.

    Differences from TorchJD: the quadratic program is solved exactly by
    enumerating active sets in torch (TorchJD calls quadprog on the CPU),
    and by default without TorchJD's ridge ``1e-4 I`` on ``M / trace(M)``:
    that ridge is relative to the largest gradients, so with norms 1e-2 and
    1e2 TorchJD's d has ``cos(g_t, d) = -0.65`` for the small task; here
    ``g_t . d >= 0`` holds for every task. ``norm_eps=1e-4, reg_eps=1e-4``
    reproduce TorchJD's values.

    Args:
        preference: optional per-task weights u (one per task of ``tasks``,
            renormalised over the present tasks to sum to 1); default uniform.
        norm_eps: below this trace of M the gradients count as zero (0).
        reg_eps: ridge on ``M / trace(M)`` (0; TorchJD 1e-4).

    Shapes: G [T, P] (rows: present tasks), losses [T] -> d = w @ G [P].
    """

    needs = 'grads'

    def __init__(self, tasks, preference: Optional[Sequence[float]] = None,
                 norm_eps: float = 0.0, reg_eps: float = 0.0):
        super().__init__(tasks)
        if preference is not None:
            if len(preference) != len(self.tasks):
                raise ValueError(
                    f'DualProj: preference has {len(preference)} values '
                    f'for the {len(self.tasks)} tasks {self.tasks}')
            preference = torch.as_tensor(preference, dtype=torch.float64)
        self.preference = preference
        self.norm_eps, self.reg_eps = float(norm_eps), float(reg_eps)

    def aggregate_gram(self, gram: Tensor, losses: Tensor,
                       tasks: List[str]) -> Aggregation:
        gram = gram.double()
        pref = None
        if self.preference is not None:
            pref = self.preference[self.index(tasks)]
            pref = pref / pref.sum()
        weights = dualproj_weights(gram, pref, self.norm_eps, self.reg_eps)
        return Aggregation(weights=weights.to(gram.dtype))
