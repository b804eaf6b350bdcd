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
import time
from typing import Dict, List, Sequence, Tuple

import torch
import torch.distributed as dist
from torch import Tensor, nn

from mtlbox.engine.distributed import (NonFiniteGradient, all_gather_columns,
                                       all_reduce_mean, finish_update,
                                       loss_scaler_active, nonfinite_rows,
                                       skip_update, world_size)


def _flat(grads: Sequence, params: Sequence[Tensor]) -> Tensor:
    return torch.cat([
        (g if g is not None else torch.zeros_like(p)).reshape(-1)
        for g, p in zip(grads, params)
    ])


#: engine choice per model, keyed by the first shared tensor's identity
_CHOICE: Dict[tuple, str] = {}
#: what the last auto choice measured (seconds), for the benchmark script
LAST_TIMINGS: Dict[str, float] = {}
#: the measured times per model key
TIMINGS: Dict[tuple, Dict[str, float]] = {}
_MEASURED: Dict[tuple, list] = {}
_MEASURE_STEPS = 2


def _choice_key(shared: List[Tensor]) -> tuple:
    if not shared:
        return (0, 0)
    first = shared[0]
    # parameters persist across steps; feature maps are new tensors each
    # step, so they are keyed by shape
    ident = id(first) if isinstance(first, nn.Parameter) else tuple(
        first.shape)
    return (ident, len(shared))


def _sequential(losses, tasks, shared, owns, loss_scale, retain_last):
    rows, specific_grads = [], {}
    for i, task in enumerate(tasks):
        inputs = list(shared) + owns[task]
        grads = torch.autograd.grad(
            losses[task] * loss_scale,
            inputs,
            retain_graph=retain_last or i < len(tasks) - 1,
            allow_unused=True)
        rows.append(_flat(grads[:len(shared)], shared))
        specific_grads[task] = list(zip(owns[task], grads[len(shared):]))
    return torch.stack(rows), specific_grads


def _batched(losses, tasks, shared, owns, loss_scale, retain_last):
    """One vmapped backward pass: ``grad_outputs`` = the T x T identity."""
    outputs = torch.stack([losses[t].reshape(()) for t in tasks]) * loss_scale
    own_all = [p for t in tasks for p in owns[t]]
    eye = torch.eye(len(tasks), device=outputs.device, dtype=outputs.dtype)
    grads = torch.autograd.grad(
        outputs, list(shared) + own_all, grad_outputs=eye,
        retain_graph=retain_last, allow_unused=True, is_grads_batched=True)
    G = torch.cat([
        (g if g is not None else
         torch.zeros((len(tasks),) + p.shape, device=p.device,
                     dtype=p.dtype)).reshape(len(tasks), -1)
        for g, p in zip(grads[:len(shared)], shared)
    ], dim=1) if shared else outputs.new_zeros(len(tasks), 0)
    specific_grads, offset = {}, len(shared)
    for i, task in enumerate(tasks):
        pairs = []
        for p in owns[task]:
            g = grads[offset]
            pairs.append((p, None if g is None else g[i]))
            offset += 1
        specific_grads[task] = pairs
    return G, specific_grads


def _timed(fn, device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    out = fn()
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    return out, time.perf_counter() - start


def task_gradient_matrix(
        losses: Dict[str, Tensor], shared: List[Tensor],
        specific: Dict[str, List[Tensor]],
        loss_scale: float = 1.0,
        all_reduce: bool = True,
        mode: str = 'auto') -> Tuple[Tensor, Dict[str, List]]:
    """Per-task gradients of ``shared`` tensors, plus task-specific grads.

    Args:
        losses: ``{task: scalar}`` in the row order wanted.
        shared: shared parameters (or shared feature maps for
            ``needs='features'``), each with ``requires_grad``.
        specific: ``{task: parameters only that task's loss reaches}``.
        loss_scale: multiply each loss before differentiation (AMP scale);
            the returned G is divided back so it is the true gradient.
        all_reduce: average G over DDP ranks (parameter gradients only).
        mode: ``'sequential'`` (one ``autograd.grad`` per task),
            ``'batched'`` (one vmapped vector-Jacobian product,
            ``is_grads_batched=True``) or ``'auto'``: the first two calls for
            a model run both (the first pays one-time set-up costs), keep
            the faster and use it from then on; a model whose backward
            cannot be vmapped (batched raises) falls back to sequential.

    Returns:
        G [T, P] (unscaled) and ``{task: [(param, grad or None)]}``
        (grads still scaled by ``loss_scale``, as the OptimWrapper expects).
    """
    if mode not in ('auto', 'sequential', 'batched'):
        raise ValueError(f'task_gradient_matrix mode={mode!r}: expected '
                         "'auto', 'sequential' or 'batched'")
    tasks = list(losses)
    owns = {t: [p for p in specific.get(t, []) if p.requires_grad]
            for t in tasks}
    args = (losses, tasks, shared, owns, loss_scale)
    if mode == 'auto':
        key = _choice_key(shared)
        mode = _CHOICE.get(key, 'measure')
        if len(tasks) == 1:
            mode = 'sequential'
    if mode == 'measure':
        device = losses[tasks[0]].device
        (G, specific_grads), t_seq = _timed(
            lambda: _sequential(*args, retain_last=True), device)
        try:
            _, t_bat = _timed(lambda: _batched(*args, retain_last=False),
                              device)
        except (RuntimeError, NotImplementedError) as err:
            t_bat = float('inf')
            LAST_TIMINGS['batched_error'] = str(err).splitlines()[0][:200]
        # the first call pays one-time costs (vmap set-up, allocator
        # growth), so both are measured on the first two steps and the
        # faster of the best times wins
        seen = _MEASURED.setdefault(key, [])
        seen.append((t_seq, t_bat))
        best_seq = min(t for t, _ in seen)
        best_bat = min(t for _, t in seen)
        if len(seen) >= _MEASURE_STEPS or best_bat == float('inf'):
            _CHOICE[key] = 'batched' if best_bat < best_seq else 'sequential'
        LAST_TIMINGS.update(sequential=best_seq, batched=best_bat)
        TIMINGS[key] = dict(sequential=best_seq, batched=best_bat)
    elif mode == 'batched':
        G, specific_grads = _batched(*args, retain_last=False)
    else:
        G, specific_grads = _sequential(*args, retain_last=False)
    if G.dtype in (torch.float16, torch.bfloat16):
        # AMP feature maps: aggregate (Gram matrices, solvers) in float32
        G = G.float()
    if loss_scale != 1.0:
        G = G / loss_scale
    if all_reduce and dist.is_available() and dist.is_initialized():
        dist.all_reduce(G)
        G /= dist.get_world_size()
    return G, specific_grads


def engine_choice(shared: List[Tensor]) -> str:
    """The mode ``'auto'`` settled on for these shared tensors (or
    ``'unmeasured'``)."""
    return _CHOICE.get(_choice_key(shared), 'unmeasured')


def engine_timings(shared: List[Tensor]) -> Dict[str, float]:
    """Best measured seconds of each mode for these shared tensors."""
    return dict(TIMINGS.get(_choice_key(shared), {}))


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


def _amp_scale(optim_wrapper, device=None) -> float:
    if not loss_scaler_active(optim_wrapper):
        return 1.0
    scaler = optim_wrapper.loss_scaler
    if device is not None and getattr(scaler, '_scale', 0) is None:
        # the scaler creates its scale tensor on its first scale(); the
        # engine scales by a float, so without this the scaler's step()
        # fails on the first iteration
        scaler.scale(torch.ones((), device=device))
    return float(scaler.get_scale())


def _check_task_rows(G: Tensor, losses: Dict[str, Tensor], optim_wrapper,
                     where: str) -> bool:
    """Stop a step whose per-task gradient matrix has a NaN/inf row.

    G is the same on every rank (all-reduced or gathered), so all ranks
    decide alike. Without a loss scaler the update is skipped (the balancer
    never sees the matrix) and :class:`NonFiniteGradient` names the tasks.
    With a loss scaler inf/NaN is its normal overflow signal: returns True
    and the caller writes a non-finite gradient so the scaler skips the step
    and lowers its scale, without running the balancer on it.
    """
    bad = nonfinite_rows(G)
    if not bad:
        return False
    if loss_scaler_active(optim_wrapper):
        return True
    optim_wrapper._inner_count += 1
    skip_update(optim_wrapper)
    tasks = list(losses)
    raise NonFiniteGradient(where, tasks=[tasks[i] for i in bad])


def apply_balanced_step(model: nn.Module, balancer, losses: Dict[str, Tensor],
                        shared_params: List[nn.Parameter],
                        specific_params: Dict[str, List[nn.Parameter]],
                        optim_wrapper, mode: str = 'auto') -> Tensor:
    """Run one gradient-level balancing step through ``optim_wrapper``.

    ``mode``: how G is computed (``'auto'``, ``'sequential'``, ``'batched'``).

    Returns the combined gradient [P] (unscaled) for logging and tests.
    """
    shared = [p for p in shared_params if p.requires_grad]
    factor = _accumulation_factor(optim_wrapper)
    amp = _amp_scale(optim_wrapper, next(iter(losses.values())).device)
    G, specific_grads = task_gradient_matrix(
        losses, shared, specific_params, loss_scale=amp, mode=mode)
    if hasattr(balancer, 'shared_numels'):  # GradNorm(norm_on=k)
        balancer.shared_numels = [p.numel() for p in shared]
    if _check_task_rows(G, losses, optim_wrapper,
                        'per-task gradient of the shared parameters'):
        combined = G.sum(0)  # non-finite: the loss scaler skips the step
    else:
        combined = _aggregate(balancer, G, losses, factor * amp)
    write_flat_grad(shared, combined * (factor * amp))
    _add_specific(balancer, specific_grads, factor)
    _finish_step(optim_wrapper)
    return combined


def _aggregate(balancer, G: Tensor, losses: Dict[str, Tensor],
               scale: float) -> Tensor:
    """``balancer.aggregate`` with the present tasks announced, then the
    balancer's own parameter loss (if any) back-propagated with ``scale``."""
    loss_vec = torch.stack([losses[t].detach().reshape(()) for t in losses])
    loss_vec = all_reduce_mean(loss_vec)  # global values under DDP
    balancer.step_tasks = list(losses)
    balancer.specific_weights = None
    try:
        combined = balancer.aggregate(G, loss_vec)
    finally:
        balancer.step_tasks = None
    own_loss = balancer.pop_parameter_loss()
    if own_loss is not None:
        (own_loss * scale).backward()
    return combined


def _add_specific(balancer, specific_grads, factor: float) -> None:
    weights = balancer.specific_weights
    for i, pairs in enumerate(specific_grads.values()):
        scale = factor if weights is None else weights[i] * factor
        for p, g in pairs:
            if g is not None:
                g = g * scale
                p.grad = g if p.grad is None else p.grad + g


def apply_feature_step(balancer, losses: Dict[str, Tensor],
                       feature_leaves: List[Tensor], trunk_feats: List[Tensor],
                       specific_params: Dict[str, List[nn.Parameter]],
                       optim_wrapper, mode: str = 'auto') -> Tensor:
    """One ``needs='features'`` step (e.g. MGDA-UB).

    G [T, F] holds the per-task gradients of the shared feature maps (the
    heads read ``feature_leaves``, detached copies of ``trunk_feats``); the
    combined feature gradient is back-propagated once through the trunk.
    """
    factor = _accumulation_factor(optim_wrapper)
    amp = _amp_scale(optim_wrapper, next(iter(losses.values())).device)
    G, specific_grads = task_gradient_matrix(
        losses, feature_leaves, specific_params, loss_scale=amp,
        all_reduce=False, mode=mode)  # features differ per rank: gathered
    ranks = world_size()
    where = 'per-task gradient of the shared features'
    if ranks > 1:
        # the global batch's feature gradient is the concatenation of every
        # rank's (losses are rank means: 1/N each); aggregate that, back-
        # propagate this rank's slice N times (gradients are then averaged)
        G_all, offset = all_gather_columns(G / ranks)
        if _check_task_rows(G_all, losses, optim_wrapper, where):
            combined = G.sum(0)  # non-finite: the loss scaler skips it
        else:
            combined = _aggregate(balancer, G_all, losses, factor * amp)
            combined = combined[offset:offset + G.shape[1]] * ranks
    elif _check_task_rows(G, losses, optim_wrapper, where):
        combined = G.sum(0)
    else:
        combined = _aggregate(balancer, G, losses, factor * amp)
    combined = combined * (factor * amp)
    pieces, offset = [], 0
    for f in trunk_feats:
        pieces.append(
            combined[offset:offset + f.numel()].view_as(f).to(f.dtype))
        offset += f.numel()
    torch.autograd.backward(trunk_feats, pieces)
    _add_specific(balancer, specific_grads, factor)
    _finish_step(optim_wrapper)
    return combined


def _finish_step(optim_wrapper) -> None:
    """What ``OptimWrapper.update_params`` does after ``backward()`` (plus
    the gradient average over data-parallel ranks before stepping)."""
    optim_wrapper._inner_count += 1
    finish_update(optim_wrapper)
