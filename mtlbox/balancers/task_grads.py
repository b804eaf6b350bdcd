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
from typing import Dict, List, Optional, Tuple

import torch
import torch.distributed as dist
from mmengine.logging import print_log
from torch import Tensor


#: the gradient engine modes (``MultiTaskModel(grad_engine=...)``)
MODES = ('auto', 'sequential', 'batched', 'gramian')

#: a vmapped backward of T tasks is assumed to hold this many times T x the
#: largest tensor its forward saved (GradEngine.check_vmap_budget)
VMAP_MEMORY_FACTOR = 6

#: elements per task row in one Gram block (a [T, 64K] float32 block fits in
#: a core's L2 cache for small T; measured fastest of 16K-512K on the
#: ResNet-18 benchmark: 25 ms against 52 ms for pairwise dots, T = 3)
_GRAM_CHUNK = 1 << 16


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
    ``'gramian'``: the memory-light Gram engine of :func:`task_gramian`
    for the shared parameters of gramian balancers (``GradStep``); other
    callers of the engine (feature gradients, hooks) treat it as
    ``'auto'``.

    For a gramian balancer in one process ``'auto'`` also chooses the
    step's path (:meth:`gram_path`): once the per-task engine is decided,
    the next ``2 x measure_steps`` steps alternate between the per-tensor
    path and the Gramian engine, timed whole, and the faster best time is
    kept (the Gramian engine wins where T is large against the trunk's
    activations: a ResNet-18 at 64x64 from T = 5 on, see
    docs/balancers.md); a Gramian pass that cannot be vmapped decides for
    the per-tensor path.

    Attributes:
        choice: ``'sequential'``/``'batched'`` once decided, else ``None``.
        timings: best measured seconds of each mode.
        batched_error: why the batched mode failed, if it did.
        path_choice: ``'tensors'``/``'gramian'`` once decided, else None.
        path_timings: best measured seconds of each path's step.
    """

    def __init__(self, mode: str = 'auto', measure_steps: int = 2):
        if mode not in MODES:
            raise ValueError(f'grad engine mode={mode!r}: expected one of '
                             f'{MODES}')
        self.mode = mode
        self.measure_steps = measure_steps
        self.remeasure()

    def remeasure(self) -> None:
        """Forget the auto choices: the next calls measure both modes
        (and both paths)."""
        self.choice = None
        self.timings: Dict[str, float] = {}
        self.batched_error = None
        self._measured: List[tuple] = []
        self.path_choice = None
        self.path_timings: Dict[str, float] = {}
        self._path_measured = dict(tensors=[], gramian=[])

    def check_vmap_budget(self, num_tasks: int, largest_saved: int,
                          available: Optional[int]) -> bool:
        """Before a vmapped trial: a batched backward holds about T sets
        of the activation gradients, estimated as ``VMAP_MEMORY_FACTOR x T
        x`` the largest tensor the forward saved for the backward (measured
        4-4.5x on CelebA's ConvNet and the ResNet-18 task-scaling model).
        If that exceeds ``available`` bytes, the vmapped trials are skipped
        for good (logged; ``batched_error`` says why) instead of risking the
        out-of-memory killer. Returns whether they may run."""
        if self.batched_error is not None:
            return False
        need = VMAP_MEMORY_FACTOR * num_tasks * largest_saved
        if available is None or need <= available:
            return True
        self.batched_error = (
            f'skipped: a vmapped backward of {num_tasks} tasks would hold '
            f'about {need / 2**30:.1f} GiB ({VMAP_MEMORY_FACTOR} x T x the '
            f'largest saved activation, {largest_saved / 2**20:.0f} MiB) '
            f'of {available / 2**30:.1f} GiB available')
        print_log(f'GradEngine: vmapped trials {self.batched_error}; '
                  'set grad_engine explicitly to override',
                  logger='current', level=logging.WARNING)
        return False

    def gram_path(self) -> str:
        """The path of the next step of a gramian balancer in one process:
        ``'gramian'`` (mode ``'gramian'``, or chosen / on trial in
        ``'auto'``) or ``'tensors'``. In ``'auto'`` the per-task engine is
        decided first (its measuring steps run both of its modes, so they
        say nothing of the path), then the paths alternate until each has
        ``measure_steps`` timings."""
        if self.mode == 'gramian':
            return 'gramian'
        if self.mode != 'auto' or self.choice is None:
            return 'tensors'
        if self.path_choice is not None:
            return self.path_choice
        if self.batched_error is not None:  # no vmapped pass runs here
            self._decide_path('tensors', self.batched_error)
            return 'tensors'
        done = self._path_measured
        return ('tensors' if len(done['tensors']) <= len(done['gramian'])
                else 'gramian')

    @property
    def paths_on_trial(self) -> bool:
        """Whether the next step's path is timed for the choice (auto,
        per-task engine decided: a step that decides it runs both of its
        modes, path not yet chosen)."""
        return (self.mode == 'auto' and self.choice is not None
                and self.path_choice is None)

    def record_path(self, path: str, seconds: float) -> None:
        """One timed step of ``path`` while the paths are on trial."""
        if not self.paths_on_trial:
            return
        self._path_measured[path].append(seconds)
        if min(len(v) for v in self._path_measured.values()) \
                < self.measure_steps:
            return
        self.path_timings = {k: min(v)
                             for k, v in self._path_measured.items()}
        self._decide_path(min(self.path_timings, key=self.path_timings.get))

    def gramian_failed(self, err: Exception) -> None:
        """The Gramian pass could not run (vmap): keep the per-tensor
        path."""
        self.path_timings = {}
        self._decide_path('tensors', str(err).splitlines()[0][:200])

    def _decide_path(self, path: str, error: Optional[str] = None) -> None:
        self.path_choice = path
        times = ', '.join(f'{k} {v * 1e3:.1f} ms'
                          for k, v in self.path_timings.items())
        print_log(f'GradEngine: {path} path for the Gram balancer '
                  + (f'(measured per step: {times})' if times else
                     f'(Gramian engine not used: {error})'),
                  logger='current',
                  level=logging.INFO if error is None else logging.WARNING)

    def current(self, num_tasks: int) -> str:
        """The mode of the next call: fixed, decided, or ``'measure'``."""
        if self.mode not in ('auto', 'gramian'):
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


class TaskGradients:
    """Per-task gradients of the shared tensors, kept as autograd returned
    them (no [T, P] matrix unless :meth:`matrix` is asked for).

    One of two layouts: ``rows[t][k]`` (sequential engine: one
    ``autograd.grad`` per task; None for a tensor task t does not reach) or
    ``stacked[k]`` [T, *shape] (batched engine). The gradients are those of
    ``loss_scale * L_t`` (AMP scale included); :meth:`gram` and
    :meth:`matrix` divide it out.

    Attributes:
        shared: the shared tensors, in column order.
        specific: ``{task: [(param, grad or None)]}`` of the task-specific
            parameters (grads still scaled by ``loss_scale``).
    """

    def __init__(self, shared, specific, loss_scale=1.0, rows=None,
                 stacked=None):
        self.shared, self.specific = list(shared), specific
        self.loss_scale = loss_scale
        self.rows, self.stacked = rows, stacked

    @property
    def num_tasks(self) -> int:
        return len(self.specific)

    def gram(self) -> Tensor:
        """``M = sum_k G_k G_k^T`` [T, T] (float32 or wider), accumulated
        tensor by tensor from the per-task gradients, unscaled."""
        T = self.num_tasks
        p0 = self.shared[0] if self.shared else None
        dtype = torch.float32 if p0 is None or p0.dtype in (
            torch.float16, torch.bfloat16) else p0.dtype
        device = p0.device if p0 is not None else 'cpu'
        M = torch.zeros(T, T, dtype=dtype, device=device)
        if self.stacked is not None:
            for g in self.stacked:
                if g is not None:
                    block = g.reshape(T, -1).to(dtype)
                    M.addmm_(block, block.T)
        else:
            # rows of one tensor are copied chunk by chunk into a small
            # [T, chunk] buffer that stays in cache, so each gradient is
            # read from memory once (pairwise dots read it T + 1 times)
            buf = torch.empty(T, _GRAM_CHUNK, dtype=dtype, device=device)
            for k in range(len(self.shared)):
                present = [t for t, row in enumerate(self.rows)
                           if row[k] is not None]
                if not present:
                    continue
                vecs = [self.rows[t][k].reshape(-1) for t in present]
                sub = M if len(present) == T else torch.zeros(
                    len(present), len(present), dtype=dtype, device=device)
                n = vecs[0].numel()
                for start in range(0, n, _GRAM_CHUNK):
                    stop = min(n, start + _GRAM_CHUNK)
                    block = buf[:len(present), :stop - start]
                    for i, v in enumerate(vecs):
                        block[i].copy_(v[start:stop])
                    sub.addmm_(block, block.T)
                if sub is not M:
                    idx = torch.tensor(present, device=device)
                    M[idx.unsqueeze(1), idx] += sub
        if self.loss_scale != 1.0:
            M /= self.loss_scale ** 2
        return M

    def matrix(self, out: Optional[Tensor] = None) -> Tensor:
        """G [T, P]: the flattened rows, copied once into ``out`` (reused
        when it has the right shape, dtype and device: a fresh [T, P]
        allocation costs page faults on every step) or a new matrix;
        unscaled, float32 for half-precision tensors."""
        T = self.num_tasks
        P = sum(p.numel() for p in self.shared)
        p0 = self.shared[0] if self.shared else None
        dtype = p0.dtype if p0 is not None else torch.float32
        device = p0.device if p0 is not None else torch.device('cpu')
        if (out is not None and out.shape == (T, P) and out.dtype == dtype
                and out.device == device):
            G = out
        else:
            G = torch.empty(T, P, dtype=dtype, device=device)
        offset = 0
        for k, p in enumerate(self.shared):
            n = p.numel()
            if self.stacked is not None:
                if self.stacked[k] is None:
                    G[:, offset:offset + n] = 0
                else:
                    G[:, offset:offset + n] = self.stacked[k].reshape(T, n)
            else:
                for t, row in enumerate(self.rows):
                    if row[k] is None:
                        G[t, offset:offset + n] = 0
                    else:
                        G[t, offset:offset + n] = row[k].reshape(n)
            offset += n
        if G.dtype in (torch.float16, torch.bfloat16):
            # AMP feature maps: aggregate (Gram matrices, solvers) in float32
            G = G.float()
        if self.loss_scale != 1.0:
            G /= self.loss_scale
        return G

    def combine(self, weights: Tensor, scale: float = 1.0,
                inplace: bool = False) -> List:
        """``scale * sum_t w_t g_{t,k}`` for every shared tensor k, tensor
        by tensor from the stored (loss-scaled) gradients, in the tensor's
        dtype; None where no task reaches it.

        ``inplace=True`` (the last use of these gradients) writes each sum
        into its first task's gradient where that gradient owns its memory
        alone (autograd may hand one buffer to several inputs, or an
        expanded view), instead of a fresh tensor per parameter; the rows
        are unusable afterwards."""
        coef = (weights.detach().double() * scale).tolist()
        own = self._sole_owners() if inplace and self.rows is not None \
            else set()
        out = []
        for k, p in enumerate(self.shared):
            d = None
            if self.stacked is not None:
                g = self.stacked[k]
                if g is not None:
                    w = torch.tensor(coef, dtype=g.dtype, device=g.device)
                    d = (w @ g.reshape(g.shape[0], -1)).view_as(p)
            else:
                for t, row in enumerate(self.rows):
                    g = row[k]
                    if g is None or coef[t] == 0.0:
                        continue
                    if d is None:
                        # in place into the first row: the gradients are
                        # only read again through this combination (gram
                        # and matrix come before it), and a fresh tensor per
                        # parameter costs page faults on every step
                        d = (g.mul_(coef[t]) if id(g) in own
                             else g.mul(coef[t]))
                    else:
                        d.add_(g, alpha=coef[t])
            out.append(None if d is None else d.to(p.dtype))
        return out

    def _sole_owners(self) -> set:
        """ids of the row gradients that are contiguous and the only
        tensor on their storage (safe to overwrite)."""
        count: Dict[int, int] = {}
        grads = [g for row in self.rows for g in row if g is not None]
        grads += [g for pairs in self.specific.values() for _, g in pairs
                  if g is not None]
        for g in grads:
            ptr = g.untyped_storage().data_ptr()
            count[ptr] = count.get(ptr, 0) + 1
        return {id(g) for g in grads
                if g.is_contiguous()
                and count[g.untyped_storage().data_ptr()] == 1
                and g.untyped_storage().nbytes()
                == g.numel() * g.element_size()}

    def tensor_rows(self, k: int) -> List[Optional[Tensor]]:
        """The flattened (loss-scaled) gradient of shared tensor ``k`` of
        every task, as autograd returned it (a view, no copy); None where
        the task does not reach the tensor."""
        if self.stacked is not None:
            g = self.stacked[k]
            if g is None:
                return [None] * self.num_tasks
            flat = g.reshape(self.num_tasks, -1)
            return [flat[t] for t in range(self.num_tasks)]
        return [None if row[k] is None else row[k].reshape(-1)
                for row in self.rows]

    def update_state(self, old: Tensor, new: Tensor, rows: List[int],
                     decay: List[float], gain: List[float]) -> Tensor:
        """A linear recursion of per-task state [N, P] (EMAs of the
        gradients: DB-MTL, MoCo) written once, straight from the per-task
        gradients: ``new[rows[t]] = decay[t] * old[rows[t]] + gain[t] *
        g_t`` for the present tasks t (``g_t`` unscaled: the AMP scale is
        divided out), ``new[r] = old[r]`` for the other rows, in blocks of
        ``_GRAM_CHUNK`` columns that stay in cache; no [T, P] matrix of the
        gradients is formed. ``old`` is only read, so a caller that keeps
        both buffers can drop ``new`` (a non-finite step) and keep its
        state. Returns the Gram matrix of the new present rows [T, T]
        (float32 or wider): their norms and inner products, non-finite
        where a gradient was (``old`` finite)."""
        T = self.num_tasks
        if len(rows) != T or len(decay) != T or len(gain) != T:
            raise ValueError(f'update_state: {T} tasks but {len(rows)} rows, '
                             f'{len(decay)} decays, {len(gain)} gains')
        if old.shape != new.shape or old.shape[1] != sum(
                p.numel() for p in self.shared):
            raise ValueError(
                f'update_state: state {tuple(old.shape)} / '
                f'{tuple(new.shape)} for {len(self.shared)} shared tensors of '
                f'{sum(p.numel() for p in self.shared)} values')
        if old.data_ptr() == new.data_ptr():
            raise ValueError('update_state: old and new must be two buffers '
                             '(new is written while old is read)')
        gain = [g / self.loss_scale for g in gain]
        dtype = torch.float32 if old.dtype in (torch.float16,
                                               torch.bfloat16) else old.dtype
        M = torch.zeros(T, T, dtype=dtype, device=old.device)
        others = sorted(set(range(old.shape[0])) - set(rows))
        if others:
            new[others] = old[others]
        span = _row_index(rows)
        # consecutive rows: one multiply of the whole [T, chunk] block of
        # the state, then one add per task (half the kernel launches of a
        # row at a time, which this loop's time is dominated by); a decay
        # of 0 multiplies a finite state (it is zeroed when sized and never
        # takes a non-finite row), so it leaves gain_t g_t exactly
        rows_decay = old.new_tensor(decay)[:, None] \
            if isinstance(span, slice) else None
        offset = 0
        for k, p in enumerate(self.shared):
            grads = self.tensor_rows(k)
            n = p.numel()
            for start in range(0, n, _GRAM_CHUNK):
                a, b = offset + start, offset + min(n, start + _GRAM_CHUNK)
                if rows_decay is not None:
                    block = new[span, a:b]
                    torch.mul(old[span, a:b], rows_decay, out=block)
                    for t, g in enumerate(grads):
                        if g is not None:
                            block[t].add_(g[start:start + b - a],
                                          alpha=gain[t])
                else:
                    for t, r in enumerate(rows):
                        dst, src = new[r, a:b], old[r, a:b]
                        torch.mul(src, decay[t], out=dst)
                        if grads[t] is not None:
                            dst.add_(grads[t][start:start + b - a],
                                     alpha=gain[t])
                    block = new[span, a:b]
                block = block.to(dtype)
                M.addmm_(block, block.T)
            offset += n
        return M

    def combine_state(self, state: Tensor, rows: List[int],
                      weights: Tensor) -> List[Tensor]:
        """``d_k = sum_t w_t state[rows[t], cols of tensor k]`` for every
        shared tensor k, shaped as the tensor (the update of a balancer
        whose direction combines its state rather than G's rows). Written
        into the first task's gradient of the tensor where that gradient
        owns its memory alone, so call it after the gradients' last use
        (:meth:`update_state`); the rows are unusable afterwards."""
        coef = weights.detach().to(state.dtype)
        own = self._sole_owners() if self.rows is not None else set()
        span = _row_index(rows)
        out, offset = [], 0
        for k, p in enumerate(self.shared):
            n = p.numel()
            first = next((g for g in (row[k] for row in self.rows or [])
                          if g is not None), None)
            dst = (first.view(-1) if first is not None and id(first) in own
                   and first.dtype == state.dtype
                   else torch.empty(n, dtype=state.dtype,
                                    device=state.device))
            for start in range(0, n, _GRAM_CHUNK):
                a, b = offset + start, offset + min(n, start + _GRAM_CHUNK)
                torch.mv(state[span, a:b].T, coef,
                         out=dst[start:start + b - a])
            out.append(dst.view_as(p))
            offset += n
        return out

    def combine_into(self, weights: Tensor, scale: float = 1.0) -> List:
        """``p.grad += scale * sum_t w_t g_{t,p}`` for every shared tensor
        (:meth:`combine`): with ``scale = accumulation factor`` this is what
        writing ``(w @ G) * factor * loss_scale`` would give, without
        forming G. Returns the combination of each tensor (zeros where no
        task reaches it), in :attr:`shared` order. The per-task gradients
        are overwritten (``combine(inplace=True)``)."""
        out = []
        for p, d in zip(self.shared,
                        self.combine(weights, scale, inplace=True)):
            if d is None:
                out.append(torch.zeros_like(p))
                continue
            out.append(d)
            if p.grad is None:
                p.grad = d
            else:
                p.grad.add_(d)
        return out


def _row_index(rows: List[int]):
    """Index of state rows ``rows``: a slice (a strided view, no copy) when
    they are consecutive, else the list (a copy of a cache-sized block)."""
    if rows == list(range(rows[0], rows[0] + len(rows))):
        return slice(rows[0], rows[0] + len(rows))
    return rows


def _sequential(losses, tasks, shared, owns, loss_scale, retain_last):
    rows, specific_grads = [], {}
    for i, task in enumerate(tasks):
        inputs = list(shared) + owns[task]
        grads = torch.autograd.grad(
            losses[task] * loss_scale,
            inputs,
            retain_graph=retain_last or i < len(tasks) - 1,
            allow_unused=True)
        rows.append(list(grads[:len(shared)]))
        specific_grads[task] = list(zip(owns[task], grads[len(shared):]))
    return TaskGradients(shared, specific_grads, loss_scale, rows=rows)


def _batched(losses, tasks, shared, owns, loss_scale, retain_last):
    """One vmapped backward pass: ``grad_outputs`` = the T x T identity."""
    outputs = torch.stack([losses[t].reshape(()) for t in tasks]) * loss_scale
    own_all = [p for t in tasks for p in owns[t]]
    eye = torch.eye(len(tasks), device=outputs.device, dtype=outputs.dtype)
    grads = torch.autograd.grad(
        outputs, list(shared) + own_all, grad_outputs=eye,
        retain_graph=retain_last, allow_unused=True, is_grads_batched=True)
    specific_grads, offset = {}, len(shared)
    for i, task in enumerate(tasks):
        pairs = []
        for p in owns[task]:
            g = grads[offset]
            pairs.append((p, None if g is None else g[i]))
            offset += 1
        specific_grads[task] = pairs
    return TaskGradients(shared, specific_grads, loss_scale,
                         stacked=list(grads[:len(shared)]))


class LargestSaved:
    """Within the block, the largest tensor autograd saves for the backward
    (``saved_tensors_hooks``; the tensors are kept as they are), in bytes:
    :attr:`nbytes`. What :meth:`GradEngine.check_vmap_budget` scales."""

    def __init__(self):
        self.nbytes = 0
        self._hooks = torch.autograd.graph.saved_tensors_hooks(
            self._pack, lambda t: t)

    def _pack(self, t):
        if torch.is_tensor(t):
            self.nbytes = max(self.nbytes, t.numel() * t.element_size())
        return t

    def __enter__(self):
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc):
        self._hooks.__exit__(*exc)


def available_memory(device) -> Optional[int]:
    """Bytes a new allocation can still take on ``device``: the CUDA
    driver's free memory, or the system's ``MemAvailable``
    (``/proc/meminfo``); None where neither can be read."""
    if device.type == 'cuda':
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemAvailable:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def timed(fn, device):
    """``(fn(), seconds)``, the device synchronised on both sides."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    out = fn()
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    return out, time.perf_counter() - start


def _vmap_level() -> int:
    """The level the next legacy vmap (``is_grads_batched``) will use."""
    level = torch._C._vmapmode_increment_nesting()
    torch._C._vmapmode_decrement_nesting()
    return level


def task_gramian(losses: Dict[str, Tensor], shared: List[Tensor],
                 specific: Dict[str, List[Tensor]],
                 loss_scale: float = 1.0,
                 convs=None) -> Tuple[Tensor, Dict[str, List]]:
    """The Gram matrix ``M = G G^T`` of the per-task gradients of
    ``shared`` without holding G: one vmapped backward pass (grad_outputs =
    the T x T identity, graph retained) in which a hook on each shared
    tensor adds ``G_k G_k^T`` of its [T, *shape] gradient to M the moment
    it is produced and hands autograd a stride-0 zero in its place, so each
    block is freed at once. Extra memory: the largest [T, *shape] block
    (for a convolution weight about twice that while PyTorch's batched
    weight gradient produces it: ``tools/benchmark/vmap_memory.py``) and
    the vmapped activation gradients, instead of T x P. Each task-specific
    parameter keeps only its own task's row (what the heads' update uses).

    ``convs``: a :class:`~mtlbox.balancers.conv_gramian.ConvGramian` that
    recorded the forward: the convolutions it plans for are left out of
    the pass's inputs (PyTorch computes no weight gradient for them) and
    add ``tr(D_i K D_j^T)`` from their inputs and output gradients instead,
    so no [T, *shape] block of theirs exists.

    Returns M [T, T] (unscaled, float32 or wider) and ``{task: [(param,
    grad or None)]}`` (grads scaled by ``loss_scale``). The caller
    back-propagates ``sum_t w_t L_t`` through the retained graph once the
    weights are known. Raises the vmap error if the backward cannot be
    batched (:class:`GradEngine` explains).
    """
    tasks = list(losses)
    T = len(tasks)
    owns = {t: [p for p in specific.get(t, []) if p.requires_grad]
            for t in tasks}
    outputs = torch.stack([losses[t].reshape(()) for t in tasks]) * loss_scale
    p0 = shared[0] if shared else outputs
    dtype = torch.float32 if p0.dtype in (torch.float16, torch.bfloat16) \
        else p0.dtype
    M = torch.zeros(T, T, dtype=dtype, device=outputs.device)
    own_rows: Dict[int, Tensor] = {}
    level = _vmap_level()

    def unbatched(g, p):
        full = torch._remove_batch_dim(g, level, T, 0)
        if full.shape != (T, ) + p.shape:
            raise RuntimeError(
                f'task_gramian: expected a [{T}, *{tuple(p.shape)}] batched '
                f'gradient, got {tuple(full.shape)} (nested vmap?)')
        return full

    def zero_like(g):
        return torch.zeros((), dtype=g.dtype, device=g.device).expand(g.shape)

    def shared_hook(p):
        def hook(g):
            block = unbatched(g, p).reshape(T, -1).to(dtype)
            M.addmm_(block, block.T)
            return zero_like(g)
        return hook

    def own_hook(p, row):
        def hook(g):
            own_rows[id(p)] = unbatched(g, p)[row].clone()
            return zero_like(g)
        return hook

    own_all = [(p, i) for i, t in enumerate(tasks) for p in owns[t]]
    inputs = list(shared)
    if convs is not None:
        by_module = convs.begin(T, level, M)
        inputs = [p for p in shared if id(p) not in by_module]
        if by_module and not inputs and not own_all:  # grad needs one
            inputs = [convs.release_one()]
    handles = [p.register_hook(shared_hook(p)) for p in inputs]
    handles += [p.register_hook(own_hook(p, i)) for p, i in own_all]
    eye = torch.eye(T, device=outputs.device, dtype=outputs.dtype)
    done = False
    try:
        torch.autograd.grad(outputs, inputs + [p for p, _ in own_all],
                            grad_outputs=eye, retain_graph=True,
                            allow_unused=True, is_grads_batched=True)
        done = True
    finally:
        for h in handles:
            h.remove()
        if convs is not None:
            convs.end(check=done)
    if loss_scale != 1.0:
        M /= loss_scale ** 2
    specific_grads = {t: [(p, own_rows.get(id(p))) for p in owns[t]]
                      for t in tasks}
    return M, specific_grads


def task_gradients(
        losses: Dict[str, Tensor], shared: List[Tensor],
        specific: Dict[str, List[Tensor]],
        loss_scale: float = 1.0,
        mode: str = 'sequential',
        engine: Optional[GradEngine] = None) -> TaskGradients:
    """Per-task gradients of ``shared`` tensors, plus task-specific grads,
    as a :class:`TaskGradients` (no [T, P] matrix is formed).

    Args:
        losses: ``{task: scalar}`` in the row order wanted.
        shared: shared parameters (or shared feature maps for
            ``needs='features'``), each with ``requires_grad``.
        specific: ``{task: parameters only that task's loss reaches}``.
        loss_scale: multiply each loss before differentiation (AMP scale).
        mode: ``'sequential'`` or ``'batched'`` when no ``engine`` is given.
        engine: a :class:`GradEngine` (its mode and auto choice win over
            ``mode``).
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
        skip = engine.batched_error is not None  # failed or over budget
        out, t_seq = timed(lambda: _sequential(*args, retain_last=not skip),
                           device)
        t_bat = float('inf')
        if not skip:
            try:
                _, t_bat = timed(lambda: _batched(*args, retain_last=False),
                                 device)
            except (RuntimeError, NotImplementedError) as err:
                engine.batched_error = str(err).splitlines()[0][:200]
        engine.record(t_seq, t_bat)
        return out
    if mode == 'batched':
        return _batched(*args, retain_last=False)
    return _sequential(*args, retain_last=False)


def task_gradient_matrix(
        losses: Dict[str, Tensor], shared: List[Tensor],
        specific: Dict[str, List[Tensor]],
        loss_scale: float = 1.0,
        all_reduce: bool = True,
        mode: str = 'sequential',
        engine: Optional[GradEngine] = None) -> Tuple[Tensor, Dict[str, List]]:
    """:func:`task_gradients` as the matrix G [T, P] (rows flattened and
    concatenated, unscaled), averaged over DDP ranks when ``all_reduce``
    (parameter gradients only), and ``{task: [(param, grad or None)]}``
    (grads still scaled by ``loss_scale``, as the OptimWrapper expects)."""
    grads = task_gradients(losses, shared, specific, loss_scale, mode,
                           engine)
    G = grads.matrix()
    if all_reduce and dist.is_available() and dist.is_initialized():
        dist.all_reduce(G)
        G /= dist.get_world_size()
    return G, grads.specific


def write_flat_grad(params: List[Tensor], flat: Tensor,
                    copy: bool = True) -> None:
    """Add the flat vector ``flat`` [P] into ``.grad`` of ``params``;
    ``copy=False``: a parameter without a gradient gets a view of ``flat``
    (for a fresh vector the caller does not use again)."""
    offset = 0
    for p in params:
        n = p.numel()
        g = flat[offset:offset + n].view_as(p).to(p.dtype)
        if p.grad is None:
            p.grad = g.clone() if copy else g
        else:
            p.grad.add_(g)
        offset += n
    if offset != flat.numel():
        raise ValueError(f'combined gradient has {flat.numel()} entries but '
                         f'the shared parameters have {offset}')
