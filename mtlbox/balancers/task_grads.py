"""The per-task gradient engine shared by every gradient-level balancer.

:func:`task_gradient_matrix` computes G [T, P]: row t is the gradient of
task t's loss with respect to the shared tensors (parameters, or feature
maps for ``needs='features'``), flattened and concatenated (P = number of
shared scalars); task-specific parameters get their own task's gradient in
the same pass. Under DDP the matrix is averaged over ranks so every rank
aggregates the same G. The step strategies of
:mod:`mtlbox.engine.balanced_step` call it, hand G to ``balancer.aggregate``
and write the combined gradient with :func:`write_flat_grad`.

Everything stays on the training device.
"""
import logging
import time
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.distributed as dist
from mmengine.logging import print_log
from torch import Tensor


def _flat(grads: Sequence, params: Sequence[Tensor]) -> Tensor:
    return torch.cat([
        (g if g is not None else torch.zeros_like(p)).reshape(-1)
        for g, p in zip(grads, params)
    ])


class GradEngine:
    """How per-task gradient matrices are computed, with the ``'auto'``
    choice of one model (held by its step strategy, so nothing is shared
    between models or keyed by object ids).

    ``mode``: ``'sequential'`` (one ``autograd.grad`` per task),
    ``'batched'`` (one vmapped vector-Jacobian product,
    ``is_grads_batched=True``) or ``'auto'``: the first ``measure_steps``
    calls run both (the first pays one-time set-up costs), then the faster
    best time is kept until :meth:`remeasure`; a backward that cannot be
    vmapped (batched raises) falls back to sequential, logged once.

    Attributes:
        choice: ``'sequential'``/``'batched'`` once decided, else ``None``.
        timings: best measured seconds of each mode.
        batched_error: why the batched mode failed, if it did.
    """

    def __init__(self, mode: str = 'auto', measure_steps: int = 2):
        if mode not in ('auto', 'sequential', 'batched'):
            raise ValueError(f'grad engine mode={mode!r}: expected '
                             "'auto', 'sequential' or 'batched'")
        self.mode = mode
        self.measure_steps = measure_steps
        self.remeasure()

    def remeasure(self) -> None:
        """Forget the auto choice: the next calls measure both modes."""
        self.choice = None
        self.timings: Dict[str, float] = {}
        self.batched_error = None
        self._measured: List[tuple] = []

    def current(self, num_tasks: int) -> str:
        """The mode of the next call: fixed, decided, or ``'measure'``."""
        if self.mode != 'auto':
            return self.mode
        if num_tasks == 1:
            return 'sequential'
        return self.choice or 'measure'

    def record(self, t_seq: float, t_bat: float) -> None:
        self._measured.append((t_seq, t_bat))
        best_seq = min(t for t, _ in self._measured)
        best_bat = min(t for _, t in self._measured)
        self.timings = dict(sequential=best_seq, batched=best_bat)
        if (len(self._measured) >= self.measure_steps
                or best_bat == float('inf')):
            self.choice = 'batched' if best_bat < best_seq else 'sequential'
            print_log(f'GradEngine: {self.choice} per-task gradients '
                      f'(measured sequential {best_seq * 1e3:.1f} ms, '
                      f'batched {best_bat * 1e3:.1f} ms'
                      + (f'; batched failed: {self.batched_error}'
                         if self.batched_error else '') + ')',
                      logger='current', level=logging.INFO
                      if self.batched_error is None else logging.WARNING)


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
        mode: str = 'sequential',
        engine: Optional[GradEngine] = None) -> Tuple[Tensor, Dict[str, List]]:
    """Per-task gradients of ``shared`` tensors, plus task-specific grads.

    Args:
        losses: ``{task: scalar}`` in the row order wanted.
        shared: shared parameters (or shared feature maps for
            ``needs='features'``), each with ``requires_grad``.
        specific: ``{task: parameters only that task's loss reaches}``.
        loss_scale: multiply each loss before differentiation (AMP scale);
            the returned G is divided back so it is the true gradient.
        all_reduce: average G over DDP ranks (parameter gradients only).
        mode: ``'sequential'`` or ``'batched'`` when no ``engine`` is given.
        engine: a :class:`GradEngine` (its mode and auto choice win over
            ``mode``).

    Returns:
        G [T, P] (unscaled) and ``{task: [(param, grad or None)]}``
        (grads still scaled by ``loss_scale``, as the OptimWrapper expects).
    """
    if engine is None:
        if mode not in ('sequential', 'batched'):
            raise ValueError(f'task_gradient_matrix mode={mode!r}: expected '
                             "'sequential' or 'batched' (or pass a "
                             'GradEngine for auto)')
        engine = GradEngine(mode)
    tasks = list(losses)
    owns = {t: [p for p in specific.get(t, []) if p.requires_grad]
            for t in tasks}
    args = (losses, tasks, shared, owns, loss_scale)
    mode = engine.current(len(tasks))
    if mode == 'measure':
        device = losses[tasks[0]].device
        (G, specific_grads), t_seq = _timed(
            lambda: _sequential(*args, retain_last=True), device)
        try:
            _, t_bat = _timed(lambda: _batched(*args, retain_last=False),
                              device)
        except (RuntimeError, NotImplementedError) as err:
            t_bat = float('inf')
            engine.batched_error = str(err).splitlines()[0][:200]
        engine.record(t_seq, t_bat)
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
