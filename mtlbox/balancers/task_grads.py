"""The per-task gradient engine shared by every gradient-level balancer.

One training step of a ``needs='grads'`` balancer:

1. :func:`task_gradient_matrix` computes G [T, P]: row t is the gradient of
   task t's loss with respect to the shared parameters, flattened and
   concatenated (P = number of shared scalars). Task-specific parameters get
   their own task's gradient in the same pass.
2. Under DDP the matrix is all-reduced (averaged) so every rank aggregates
   the same G.
3. ``balancer.aggregate(G, losses)`` returns the combined gradient [P].
4. :func:`apply_balanced_step` writes it into ``.grad`` (scaled like
   ``OptimWrapper.update_params`` scales a loss, so gradient accumulation and
   AMP loss scaling keep working) and lets the OptimWrapper step, clip and
   zero gradients as it would after ``backward()``.

Everything stays on the training device.
"""
from typing import Dict, List, Sequence, Tuple

import torch
import torch.distributed as dist
from torch import Tensor, nn


def _flat(grads: Sequence, params: Sequence[Tensor]) -> Tensor:
    return torch.cat([
        (g if g is not None else torch.zeros_like(p)).reshape(-1)
        for g, p in zip(grads, params)
    ])


def task_gradient_matrix(
        losses: Dict[str, Tensor], shared: List[Tensor],
        specific: Dict[str, List[Tensor]],
        loss_scale: float = 1.0,
        all_reduce: bool = True) -> Tuple[Tensor, Dict[str, List]]:
    """Per-task gradients of ``shared`` tensors, plus task-specific grads.

    Args:
        losses: ``{task: scalar}`` in the row order wanted.
        shared: shared parameters (or shared feature maps for
            ``needs='features'``), each with ``requires_grad``.
        specific: ``{task: parameters only that task's loss reaches}``.
        loss_scale: multiply each loss before differentiation (AMP scale);
            the returned G is divided back so it is the true gradient.
        all_reduce: average G over DDP ranks (parameter gradients only).

    Returns:
        G [T, P] (unscaled) and ``{task: [grad or None per specific param]}``
        (still scaled by ``loss_scale``, as the OptimWrapper expects).
    """
    tasks = list(losses)
    rows, specific_grads = [], {}
    for i, task in enumerate(tasks):
        own = [p for p in specific.get(task, []) if p.requires_grad]
        inputs = list(shared) + own
        grads = torch.autograd.grad(
            losses[task] * loss_scale,
            inputs,
            retain_graph=i < len(tasks) - 1,
            allow_unused=True)
        rows.append(_flat(grads[:len(shared)], shared))
        specific_grads[task] = list(zip(own, grads[len(shared):]))
    G = torch.stack(rows)
    if loss_scale != 1.0:
        G = G / loss_scale
    if all_reduce and dist.is_available() and dist.is_initialized():
        dist.all_reduce(G)
        G /= dist.get_world_size()
    return G, specific_grads


def write_flat_grad(params: List[Tensor], flat: Tensor) -> None:
    """Add the flat vector ``flat`` [P] into ``.grad`` of ``params``."""
    offset = 0
    for p in params:
        n = p.numel()
        g = flat[offset:offset + n].view_as(p).to(p.dtype)
        p.grad = g.clone() if p.grad is None else p.grad + g
        offset += n
    if offset != flat.numel():
        raise ValueError(f'combined gradient has {flat.numel()} entries but '
                         f'the shared parameters have {offset}')


def _accumulation_factor(optim_wrapper) -> float:
    """The factor (1 / accumulation steps) ``OptimWrapper.scale_loss`` applies
    to a loss at this iteration."""
    return float(optim_wrapper.scale_loss(torch.ones(())).item())


def _amp_scale(optim_wrapper) -> float:
    scaler = getattr(optim_wrapper, 'loss_scaler', None)
    if scaler is None or not scaler.is_enabled():
        return 1.0
    return float(scaler.get_scale())


def apply_balanced_step(model: nn.Module, balancer, losses: Dict[str, Tensor],
                        shared_params: List[nn.Parameter],
                        specific_params: Dict[str, List[nn.Parameter]],
                        optim_wrapper) -> Tensor:
    """Run one gradient-level balancing step through ``optim_wrapper``.

    Returns the combined gradient [P] (unscaled) for logging and tests.
    """
    shared = [p for p in shared_params if p.requires_grad]
    factor = _accumulation_factor(optim_wrapper)
    amp = _amp_scale(optim_wrapper)
    G, specific_grads = task_gradient_matrix(
        losses, shared, specific_params, loss_scale=amp)
    loss_vec = torch.stack([losses[t].detach().reshape(()) for t in losses])
    combined = balancer.aggregate(G, loss_vec)
    write_flat_grad(shared, combined * (factor * amp))
    for pairs in specific_grads.values():
        for p, g in pairs:
            if g is not None:
                g = g * factor
                p.grad = g if p.grad is None else p.grad + g
    _finish_step(optim_wrapper)
    return combined


def apply_feature_step(balancer, losses: Dict[str, Tensor],
                       feature_leaves: List[Tensor], trunk_feats: List[Tensor],
                       specific_params: Dict[str, List[nn.Parameter]],
                       optim_wrapper) -> Tensor:
    """One ``needs='features'`` step (e.g. MGDA-UB).

    G [T, F] holds the per-task gradients of the shared feature maps (the
    heads read ``feature_leaves``, detached copies of ``trunk_feats``); the
    combined feature gradient is back-propagated once through the trunk.
    """
    factor = _accumulation_factor(optim_wrapper)
    amp = _amp_scale(optim_wrapper)
    G, specific_grads = task_gradient_matrix(
        losses, feature_leaves, specific_params, loss_scale=amp,
        all_reduce=False)  # features differ per rank; DDP syncs params
    loss_vec = torch.stack([losses[t].detach().reshape(()) for t in losses])
    combined = balancer.aggregate(G, loss_vec) * (factor * amp)
    pieces, offset = [], 0
    for f in trunk_feats:
        pieces.append(combined[offset:offset + f.numel()].view_as(f))
        offset += f.numel()
    torch.autograd.backward(trunk_feats, pieces)
    for pairs in specific_grads.values():
        for p, g in pairs:
            if g is not None:
                g = g * factor
                p.grad = g if p.grad is None else p.grad + g
    _finish_step(optim_wrapper)
    return combined


def _finish_step(optim_wrapper) -> None:
    """What ``OptimWrapper.update_params`` does after ``backward()``."""
    optim_wrapper._inner_count += 1
    if optim_wrapper.should_update():
        optim_wrapper.step()
        optim_wrapper.zero_grad()
