"""The mathematics of sample-level balancing (``needs='samples'``): the
held-out gradient, per-sample gradient scores and their checks. The step
itself is :class:`mtlbox.engine.balanced_step.SampleStep`."""
from typing import Dict, List

import torch
from torch import Tensor

from mtlbox.engine.distributed import (NonFiniteGradient, any_rank,
                                       loss_scaler_active)


def main_task_gradient(model, batch, main_task: str,
                       shared: List[Tensor]) -> List[Tensor]:
    """Gradient of the main task's batch loss on a held-out ``batch`` with
    respect to ``shared`` (detached; zeros where unused)."""
    data = model.data_preprocessor(batch, True)
    loss = model.local_task_loss(data['inputs'], data['data_samples'],
                                 main_task)
    if loss is None:
        raise RuntimeError(
            f'SLGrad: the held-out batch has no sample labelled for the main '
            f'task {main_task!r}; its dataset must carry that label')
    grads = torch.autograd.grad(loss, shared, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g.detach()
            for g, p in zip(grads, shared)]


def sample_scores(per_sample: Dict[str, tuple], shared: List[Tensor],
                  direction: List[Tensor]) -> Tensor:
    """``s[t, i] = <grad l_{t,i}, direction>`` for all t, i at once.

    With ``L = [l_{t,i}]`` [T, B], ``s = J v`` (J = dL/dtheta); autograd
    gives ``u(y) = J^T y`` for a dummy ``y`` (with a graph), and
    ``s = d <u(y), v> / dy``: a Jacobian-vector product by double backward.
    """
    L = torch.stack([per_sample[t][0] for t in per_sample])
    dummy = torch.zeros_like(L, requires_grad=True)
    vjp = torch.autograd.grad((L * dummy).sum(), shared, create_graph=True,
                              allow_unused=True)
    inner = sum((g * v).sum() for g, v in zip(vjp, direction)
                if g is not None)
    if not torch.is_tensor(inner) or not inner.requires_grad:
        return torch.zeros_like(L)
    (scores, ) = torch.autograd.grad(inner, dummy, retain_graph=True)
    return scores.detach()


def check_scores(scores, direction, tasks, main_task, optim_wrapper):
    """The :class:`NonFiniteGradient` to raise when the held-out gradient
    ``v`` or a task's scores ``s[t] = J_t v`` are NaN/inf (a finite loss
    with a NaN gradient shows up here, in the row of its task), else None.
    The flags are reduced over ranks so all decide alike; with a loss
    scaler the scaler handles it as usual."""
    if loss_scaler_active(optim_wrapper):
        return None
    held_out_ok = True
    if direction and not torch.isfinite(
            torch.nn.utils.get_total_norm(direction)):
        # the norm also overflows for huge finite values: look closer
        held_out_ok = all(bool(torch.isfinite(d).all()) for d in direction)
    flags = torch.cat([
        scores.new_tensor([float(not held_out_ok)]),
        (~torch.isfinite(scores).all(1)).to(scores.dtype)])
    flags = any_rank(flags).tolist()
    if not any(flags):
        return None
    if flags[0]:
        return NonFiniteGradient(
            f'held-out gradient of the main task {main_task!r}',
            tasks=[main_task])
    return NonFiniteGradient(
        'per-sample gradient scores',
        tasks=[t for t, bad in zip(tasks, flags[1:]) if bad])
