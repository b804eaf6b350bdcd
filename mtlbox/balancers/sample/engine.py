"""Training step of sample-level balancers (``needs='samples'``)."""
from typing import Dict, List

import torch
from torch import Tensor

from mtlbox.engine.distributed import (NonFiniteGradient, all_reduce_mean,
                                       all_reduce_sum, any_rank,
                                       finish_update, is_distributed,
                                       loss_scaler_active, skip_update,
                                       world_size)
from .slgrad import slgrad_weights


def _per_sample_losses(model, inputs, data_samples, tasks, trunk=None):
    """``{task: (losses [B], labelled mask [B])}`` with a live graph.

    ``trunk``: the shared maps of ``inputs`` already computed (with their
    graph) by the step's forward; the backbone then runs once per step.
    """
    if trunk is None:
        trunk = model.extract_feat(inputs)
    feats = model.architecture(trunk, tasks)
    out = {}
    cache = {}
    for task in tasks:
        head = model.heads[task]
        if not hasattr(head, 'loss_by_sample'):
            raise TypeError(
                f'SLGrad needs per-sample losses but the head of task '
                f'{task!r} ({type(head).__name__}) has no loss_by_sample('
                'feats, data_samples) -> (losses [B], mask [B])')
        out[task] = head.loss_by_sample(
            feats[task], data_samples,
            **model.head_kwargs(head, inputs, cache))
    return out


def main_task_gradient(model, batch, main_task: str,
                       shared: List[Tensor]) -> List[Tensor]:
    """Gradient of the main task's batch loss on a held-out ``batch`` with
    respect to ``shared`` (detached; zeros where unused)."""
    data = model.data_preprocessor(batch, True)
    tasks = [main_task]
    feats = model.architecture(model.extract_feat(data['inputs']), tasks)
    head = model.heads[main_task]
    losses = head.loss(feats[main_task], data['data_samples'],
                       **model.head_kwargs(head, data['inputs'], {}))
    if not losses:
        raise RuntimeError(
            f'SLGrad: the held-out batch has no sample labelled for the main '
            f'task {main_task!r}; its dataset must carry that label')
    loss = sum(v for k, v in losses.items() if 'loss' in k)
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


def _check_scores(scores, direction, tasks, main_task, optim_wrapper):
    """Skip the step when the held-out gradient ``v`` or a task's scores
    ``s[t] = J_t v`` are NaN/inf (a finite loss with a NaN gradient shows up
    here, in the row of its task). The flags are reduced over ranks so all
    decide alike; with a loss scaler the scaler handles it as usual."""
    if loss_scaler_active(optim_wrapper):
        return
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
        return
    optim_wrapper._inner_count += 1
    skip_update(optim_wrapper)
    if flags[0]:
        raise NonFiniteGradient(
            f'held-out gradient of the main task {main_task!r}',
            tasks=[main_task])
    raise NonFiniteGradient(
        'per-sample gradient scores',
        tasks=[t for t, bad in zip(tasks, flags[1:]) if bad])


def apply_sample_step(model, balancer, data, task_losses, optim_wrapper,
                      trunk=None):
    """Weigh per-sample, per-task losses and step ``optim_wrapper``.

    ``data`` is the preprocessed batch (``inputs``, ``data_samples``);
    ``task_losses`` the batch-mean per-task losses (only their keys are used:
    the per-sample losses come from ``head.loss_by_sample``); ``trunk`` the
    shared maps of the step's forward, reused so the backbone runs (and
    updates BatchNorm statistics) once. Steps:

    1. ``v`` = gradient of the main task's loss on a held-out batch
       (``balancer.next_val_batch()``) w.r.t. the shared parameters;
    2. per-sample losses ``l_{t,i}`` [T, B] and labelled masks;
    3. ``s = J v`` (:func:`sample_scores`), ``w`` = balancer weights
       (:func:`slgrad_weights`);
    4. ``optim_wrapper.update_params(sum w * l)`` (AMP, accumulation and
       clipping as for any loss).

    Returns the total loss that was back-propagated.
    """
    tasks = list(task_losses)
    shared = model.shared_parameters()
    direction = main_task_gradient(model, balancer.next_val_batch(),
                                   balancer.main_task, shared)
    if is_distributed():  # the held-out gradient of all ranks' batches
        direction = [all_reduce_mean(d) for d in direction]
    with optim_wrapper.optim_context(model):
        per_sample = _per_sample_losses(model, data['inputs'],
                                        data['data_samples'], tasks, trunk)
    L = torch.stack([per_sample[t][0] for t in tasks])
    mask = torch.stack([per_sample[t][1] for t in tasks])
    scores = sample_scores(per_sample, shared, direction)
    _check_scores(scores, direction, tasks, balancer.main_task,
                  optim_wrapper)
    ranks = world_size()
    if ranks > 1:
        # global batch: normalise over every rank's (t, i); the gradients
        # are averaged over ranks afterwards, hence the factor N below
        pos = scores.clamp_min(0) * mask.to(scores.dtype)
        denom = all_reduce_sum(pos.sum())
        weights = torch.where(denom > 0, pos / denom.clamp_min(1e-30),
                              torch.zeros_like(pos))
    else:
        weights = slgrad_weights(scores, mask)
    balancer.last_scores, balancer.last_weights = scores, weights
    balancer._set_task_weights(tasks, weights.sum(1))
    total = (weights * L).sum()
    backprop = total * ranks
    # as update_params, with the gradient average over data-parallel ranks
    optim_wrapper.backward(optim_wrapper.scale_loss(backprop))
    finish_update(optim_wrapper)
    return total.detach()
