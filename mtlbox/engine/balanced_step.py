"""One owner of the training step: a strategy per balancer family.

``MultiTaskModel.train_step`` runs the forward, sums each task's loss
components and hands the per-task losses to the step strategy it holds
(``model.balanced_step``), chosen from ``balancer.needs`` in the ``STEPS``
registry. The strategy turns the losses into parameter gradients and steps
through the ``OptimWrapper``'s public API (``scale_loss``, ``backward``,
``should_update``, ``step``, ``zero_grad``), so AMP, gradient accumulation
and clipping work as with ``update_params``:

=============  ============================================================
``losses``     :class:`LossStep`: ``balancer.weigh(losses).total``
               (global loss values under DDP), one backward.
``grads``      :class:`GradStep`: G [T, P] of per-task gradients of the
               shared parameters (:func:`~mtlbox.balancers.task_grads.
               task_gradient_matrix`), ``a = balancer.aggregate(G, L,
               tasks)``, ``d = a.combined(G)`` (``a.weights @ G`` unless
               it has a direction) written into ``.grad``, the heads' own
               gradients (times ``a.specific_weights``) added.
``features``   :class:`FeatureStep`: G [T, F] of the shared feature maps,
               the combined feature gradient back-propagated once through
               the trunk (MGDA-UB).
``samples``    :class:`SampleStep`: per-sample weights from the held-out
               gradient (SLGrad), one backward of ``sum w * l``.
=============  ============================================================

The balancer is pure (:class:`~mtlbox.balancers.base.Aggregation`,
:class:`~mtlbox.balancers.base.Weighting`): the step gives it everything
and takes everything from the returned value; :func:`call_weigh` /
:func:`call_aggregate` record the returned weights as
``balancer.task_weights`` (``BaseBalancer.record_task_weights``, logged as
``<task>.weight`` and by ``BalancerHook``). Every strategy ends in
:meth:`BalancedStep.finish`: the gradient is checked
(a NaN/inf skips the update, see :class:`~mtlbox.engine.distributed.
NonFiniteGradient`), averaged over data-parallel ranks, then the optimizer
steps at the accumulation boundary. A plugin adds a family by registering a
:class:`BalancedStep` subclass under the new ``needs`` name::

    @STEPS.register_module(name='my_family')
    class MyStep(BalancedStep): ...
"""
import contextlib
import functools
from typing import Dict, List

import torch
from torch import Tensor

from mtlbox.balancers.conv_gramian import ConvGramian
from mtlbox.balancers.task_grads import (GradEngine, LargestSaved,
                                         available_memory, timed,
                                         task_gradient_matrix,
                                         task_gradients, task_gramian,
                                         write_flat_grad)
from mtlbox.engine.distributed import (NonFiniteGradient, all_gather_columns,
                                       all_reduce_mean, all_reduce_sum,
                                       any_rank, is_distributed,
                                       loss_scaler_active, nonfinite_rows,
                                       nonfinite_grad_params, sync_gradients,
                                       world_size)
from mtlbox.balancers.base import (Aggregation, NonFiniteTaskRows,
                                   checked_aggregate, checked_aggregate_gram,
                                   checked_aggregate_tensors, checked_weigh)
from mtlbox.registry import STEPS


class BalancedStep:
    """Base of the step strategies: the OptimWrapper side of a step.

    Args:
        grad_engine: how per-task gradient matrices are computed
            (``'auto'``, ``'sequential'`` or ``'batched'``; see
            :class:`~mtlbox.balancers.task_grads.GradEngine`), for the
            families that need them.

    Attributes:
        engine: the gradient engine and its auto choice, kept for this model
            (re-measured only by ``engine.remeasure()``).
    """

    #: the heads read detached copies of the shared maps (features family)
    detach_shared = False
    #: the ``needs`` name it was built for (set by :func:`build_step`)
    family = None

    def __init__(self, grad_engine: str = 'auto'):
        self.engine = GradEngine(grad_engine)
        # an earlier micro-batch of this accumulation window had a
        # non-finite gradient: the window's update is skipped
        self._skip_window = False

    def forward_context(self, model):
        """The context the training forward of ``model`` runs in (what
        the step needs recorded during it; nothing here)."""
        return contextlib.nullcontext()

    def __call__(self, model, data: dict, losses: Dict[str, Tensor],
                 shared: List[Tensor], trunk: List[Tensor],
                 optim_wrapper) -> Tensor:
        """One step from the (finite) per-task ``losses``; returns the total
        loss for logging. ``shared``/``trunk``: the shared maps the heads
        read and the trunk's own maps (see ``MultiTaskModel``)."""
        raise NotImplementedError

    # ------------------------------------------------- OptimWrapper side
    @staticmethod
    def backward(optim_wrapper, loss: Tensor) -> None:
        """Back-propagate ``loss`` as ``update_params`` does (accumulation
        factor, AMP loss scale) and count the micro-batch."""
        optim_wrapper.backward(optim_wrapper.scale_loss(loss))

    @staticmethod
    def count_micro_batch(optim_wrapper, device=None) -> None:
        """Count a micro-batch whose gradient is written directly (or that
        is skipped): a backward of a constant, through the public API. It
        also sets up an AMP loss scaler's scale before it is read."""
        optim_wrapper.backward(torch.zeros((), device=device,
                                           requires_grad=True))

    def count_and_factors(self, optim_wrapper, device=None):
        """For a gradient written directly into ``.grad``: count the
        micro-batch and return ``(accumulation factor, AMP loss scale)``,
        what ``update_params`` would multiply its loss by. The factor is
        read before counting (as ``update_params`` scales before its
        backward), the scale after (the count sets the scaler up)."""
        factor = float(optim_wrapper.scale_loss(torch.ones(())).item())
        self.count_micro_batch(optim_wrapper, device)
        amp = 1.0
        if loss_scaler_active(optim_wrapper):
            amp = float(optim_wrapper.loss_scaler.get_scale())
        return factor, amp

    def skip(self, optim_wrapper) -> None:
        """Discard this micro-batch's update after a non-finite value (on
        every rank alike). The micro-batch counts towards accumulation;
        with ``accumulative_counts=k`` the whole window it belongs to is
        skipped, as a loss scaler does."""
        optim_wrapper.zero_grad()
        self._skip_window = not optim_wrapper.should_update()

    def skip_counted(self, optim_wrapper, device=None) -> None:
        """Count the micro-batch, then :meth:`skip` it."""
        self.count_micro_batch(optim_wrapper, device)
        self.skip(optim_wrapper)

    def finish(self, optim_wrapper) -> None:
        """After the gradients are in ``.grad``: check them (without a loss
        scaler; a NaN/inf on any rank skips and raises
        :class:`NonFiniteGradient`), then at the accumulation boundary
        average them over ranks, step (clipping included) and zero them."""
        params = [p for group in optim_wrapper.optimizer.param_groups
                  for p in group['params']]
        if not loss_scaler_active(optim_wrapper):
            bad = nonfinite_grad_params(params)
            if any_rank(torch.tensor([float(bool(bad))])).item():
                self.skip(optim_wrapper)
                raise NonFiniteGradient(
                    'combined gradient' if bad else
                    'combined gradient on another rank', params=bad)
        if not optim_wrapper.should_update():
            return
        if self._skip_window:
            self._skip_window = False
            optim_wrapper.zero_grad()
            return
        sync_gradients(params)
        optim_wrapper.step()
        optim_wrapper.zero_grad()

    def check_task_rows(self, G: Tensor, tasks: List[str], optim_wrapper,
                        where: str) -> bool:
        """Stop a step whose per-task gradient matrix has a NaN/inf row.

        G is the same on every rank (all-reduced or gathered), so all ranks
        decide alike. Without a loss scaler the update is skipped (the
        balancer never sees the matrix; the micro-batch is already counted)
        and :class:`NonFiniteGradient` names the tasks. With a loss scaler
        inf/NaN is its overflow signal: returns True and the caller writes a
        non-finite gradient so the scaler skips the step and lowers its
        scale, without running the balancer on it.
        """
        return self.stop_nonfinite(nonfinite_rows(G), tasks, optim_wrapper,
                                   where)

    def stop_nonfinite(self, bad: List[int], tasks: List[str], optim_wrapper,
                       where: str) -> bool:
        """:meth:`check_task_rows` given the non-finite rows ``bad``."""
        if not bad:
            return False
        if loss_scaler_active(optim_wrapper):
            return True
        self.skip(optim_wrapper)
        raise NonFiniteGradient(where, tasks=[tasks[i] for i in bad])


@STEPS.register_module(name='losses')
class LossStep(BalancedStep):
    """Loss-level balancers: ``total = weigh(losses)``, one backward."""

    def __call__(self, model, data, losses, shared, trunk, optim_wrapper):
        balancer = model.balancer
        if is_distributed():
            total = weigh_global(balancer, losses)
        else:
            total = call_weigh(balancer, losses)
        self.backward(optim_wrapper, total)
        self.finish(optim_wrapper)
        return total


def call_weigh(balancer, losses: Dict[str, Tensor]) -> Tensor:
    """``balancer.weigh(losses)`` -> the total loss; the returned
    :class:`~mtlbox.balancers.base.Weighting`'s weights are recorded as
    ``balancer.task_weights`` (:meth:`~mtlbox.balancers.BaseBalancer.
    record_task_weights`). A bare-tensor return is a TypeError
    (:func:`~mtlbox.balancers.base.checked_weigh`)."""
    out = checked_weigh(balancer, losses)
    if out.weights is not None:
        balancer.record_task_weights(balancer.present(losses), out.weights)
    return out.total


def call_aggregate(balancer, G: Tensor, losses: Tensor, tasks: List[str],
                   numels=None) -> Aggregation:
    """``balancer.aggregate(G, losses, tasks)`` -> its
    :class:`~mtlbox.balancers.base.Aggregation`, whose weights are recorded
    as ``balancer.task_weights``; ``numels`` and the checks as
    :func:`~mtlbox.balancers.base.checked_aggregate`."""
    out = checked_aggregate(balancer, G, losses, tasks, numels)
    if out.weights is not None:
        balancer.record_task_weights(tasks, out.weights)
    return out


def weigh_global(balancer, losses: Dict[str, Tensor]) -> Tensor:
    """Loss-level balancing on the global loss values under DDP.

    Every rank evaluates the balancer on ``L = mean over ranks`` (equal on
    all ranks, so state such as DWA histories stays in sync) and
    back-propagates ``sum_t dF/dL_t * L_t(local) + F`` (the last term only
    reaches the balancer's own parameters, e.g. UW's log-variances), whose
    rank average has exactly the gradient of ``F(L)`` for the global batch.
    """
    tasks = list(losses)
    local = torch.stack([losses[t].detach().float() for t in tasks])
    global_values = all_reduce_mean(local)
    leaves = {t: global_values[i].clone().requires_grad_()
              for i, t in enumerate(tasks)}
    weighted = call_weigh(balancer, leaves)
    grads = torch.autograd.grad(weighted, list(leaves.values()),
                                retain_graph=True, allow_unused=True)
    total = sum((g.detach() if g is not None else 0.0) * losses[t]
                for t, g in zip(tasks, grads))
    if weighted.requires_grad:
        total = total + (weighted - weighted.detach())
    return total


class _MatrixStep(BalancedStep):
    """Shared part of the gradient and feature families."""

    #: the Aggregation of the current step (None when a non-finite step
    #: skipped the balancer)
    last_aggregation = None

    def aggregate(self, balancer, G: Tensor, losses: Dict[str, Tensor],
                  scale: float, numels=None) -> Tensor:
        """``balancer.aggregate`` on the global loss values; the balancer's
        own parameter loss (if any) back-propagated with ``scale``."""
        loss_vec = torch.stack([losses[t].detach().reshape(())
                                for t in losses])
        loss_vec = all_reduce_mean(loss_vec)  # global values under DDP
        out = call_aggregate(balancer, G, loss_vec, list(losses), numels)
        self.last_aggregation = out
        if out.parameter_loss is not None:
            (out.parameter_loss * scale).backward()
        return out.combined(G)

    def gram_weights(self, balancer, M, losses, scale, optim_wrapper,
                     where):
        """``balancer.aggregate_gram`` on the Gram matrix M (a
        :attr:`~mtlbox.balancers.BaseBalancer.gramian` balancer), its
        weights recorded and its parameter loss back-propagated with
        ``scale``; on a non-finite gradient (loss scaler active) all ones,
        so the written sum is non-finite too."""
        tasks = list(losses)
        if self.check_task_rows(M.diagonal()[:, None], tasks, optim_wrapper,
                                where):
            return M.new_ones(len(tasks))
        loss_vec = torch.stack([losses[t].detach().reshape(())
                                for t in tasks])
        out = checked_aggregate_gram(balancer, M, loss_vec, tasks)
        self.accept(balancer, out, tasks, scale)
        return out.weights

    def accept(self, balancer, out: Aggregation, tasks: List[str],
               scale: float) -> None:
        """Record the Aggregation's weights and keep it as
        :attr:`last_aggregation`; back-propagate its parameter loss with
        ``scale``."""
        if out.weights is not None:
            balancer.record_task_weights(tasks, out.weights)
        self.last_aggregation = out
        if out.parameter_loss is not None:
            (out.parameter_loss * scale).backward()

    def add_specific(self, specific_grads, factor: float) -> None:
        """Add each task's own-parameter gradients (scaled by the AMP scale
        already) times the accumulation factor and the balancer's
        ``specific_weights``."""
        last = self.last_aggregation
        weights = None if last is None else last.specific_weights
        for i, pairs in enumerate(specific_grads.values()):
            scale = factor if weights is None else weights[i] * factor
            for p, g in pairs:
                if g is not None:
                    g = g * scale
                    p.grad = g if p.grad is None else p.grad + g


@STEPS.register_module(name='grads')
class GradStep(_MatrixStep):
    """Gradient-level balancers on the shared parameters.

    Three paths, chosen per step:

    - **per tensor** (a :attr:`~mtlbox.balancers.BaseBalancer.gramian`
      balancer, one process): the per-task gradients stay as autograd
      returned them; ``M = sum_k G_k G_k^T`` is accumulated tensor by
      tensor, ``w = balancer.aggregate_gram(M, L, tasks)``, and
      ``p.grad = sum_t w_t g_{t,p}`` is written tensor by tensor. No
      [T, P] matrix, no flat copy. A balancer with state as wide as G
      (:attr:`~mtlbox.balancers.BaseBalancer.per_tensor`: DB-MTL, MoCo)
      gets the same per-tensor gradients in ``aggregate_tensors`` and
      returns its direction tensor by tensor.
    - **Gramian engine** (``grad_engine='gramian'``, gramian balancers):
      M from one vmapped backward in which each tensor's [T, *shape]
      gradient is folded into M and freed at once
      (:func:`~mtlbox.balancers.task_grads.task_gramian`), the shared
      convolutions on small maps adding their share from the inputs
      recorded in the forward (:meth:`forward_context`,
      :class:`~mtlbox.balancers.conv_gramian.ConvGramian`) without any
      block of theirs; then one backward of ``sum_t w_t L_t`` into the
      shared parameters: no T x P, for one more backward pass.
    - **matrix** (the other balancers, and under DDP, where G is averaged
      over ranks in one all-reduce): G [T, P] copied once into a buffer
      kept between steps, ``balancer.aggregate(G, L, tasks)``.

    The combined gradient [P] of the last step (unscaled) is
    :attr:`last_direction`, for logging and tests; on the per-tensor path
    it is read back from the written gradients (after clipping, if the
    optimizer wrapper clips).
    """

    #: which path the last step took: 'tensors', 'gramian' or 'matrix'
    last_path = None
    WHERE = 'per-task gradient of the shared parameters'

    def __init__(self, grad_engine: str = 'auto'):
        super().__init__(grad_engine)
        self._buffer = None  # G [T, P] of the matrix path, reused
        self._direction = None
        self._written = None  # (tensors written, their scale)
        self._convs = None  # ConvGramian of the Gramian engine's forward
        self._saved = None  # LargestSaved of a measuring step's forward

    def forward_context(self, model):
        """A step the Gramian engine will take: record the shared
        convolutions' inputs (:class:`~mtlbox.balancers.conv_gramian.
        ConvGramian`), whose weights' share of M comes from them. A step
        that may run a vmapped trial (``'auto'`` measuring): record the
        largest saved activation, for the engine's memory check."""
        self._convs = self._saved = None
        engine, path = self.engine, self._path(model.balancer)
        stack = contextlib.ExitStack()
        # the vmapped trials: the per-task engine's measurement, then (Gram
        # balancers) the Gramian engine's; every other step records nothing
        if engine.mode == 'auto' and engine.batched_error is None and (
                engine.choice is None
                or path == 'gramian' and engine.paths_on_trial):
            self._saved = stack.enter_context(LargestSaved())
        if path == 'gramian':
            self._convs = stack.enter_context(
                ConvGramian(model, model.shared_parameters()))
        return stack

    def _path(self, balancer) -> str:
        """'gramian', 'tensors' or 'matrix': the path the next step of
        ``balancer`` takes (the same before its forward and in it)."""
        if self.engine.mode == 'gramian':
            return 'gramian'
        if is_distributed():
            return 'matrix'
        if balancer.gramian:
            return self.engine.gram_path()
        return 'tensors' if balancer.per_tensor else 'matrix'

    @property
    def last_direction(self):
        if self._written is not None:
            parts, scale = self._written
            return torch.cat([d.reshape(-1) for d in parts]) / scale
        return self._direction

    def __call__(self, model, data, losses, shared_maps, trunk,
                 optim_wrapper):
        balancer = model.balancer
        self.last_aggregation = None
        self._direction = self._written = None
        device = next(iter(losses.values())).device
        factor, amp = self.count_and_factors(optim_wrapper, device)
        shared = model.shared_parameters()
        specific = {t: model.task_parameters(t) for t in losses}
        convs, self._convs = self._convs, None
        saved, self._saved = self._saved, None
        if saved is not None and saved.nbytes:
            self.engine.check_vmap_budget(len(losses), saved.nbytes,
                                          available_memory(device))
        path = self._path(balancer)
        if self.engine.mode == 'gramian':
            if not balancer.gramian:
                raise ValueError(
                    f"grad_engine='gramian' needs a balancer whose weights "
                    f'depend on the Gram matrix only; '
                    f'{type(balancer).__name__} needs the gradients '
                    "themselves: use grad_engine='auto'")
            if is_distributed():
                raise NotImplementedError(
                    "grad_engine='gramian' runs in one process; under DDP "
                    "use grad_engine='auto'")
        args = (balancer, losses, shared, specific, factor, amp,
                optim_wrapper)
        if path == 'gramian':
            run = functools.partial(self._gramian, *args, convs)
        elif path == 'matrix':
            run = functools.partial(self._matrix, *args)
        elif balancer.gramian:
            run = functools.partial(self._per_tensor, *args)
        else:
            run = functools.partial(self._state_tensors, *args)
        if balancer.gramian and path != 'matrix' \
                and self.engine.paths_on_trial:  # timed (synchronised) then
            _, seconds = timed(run, device)
            self.engine.record_path(self.last_path, seconds)
        else:
            run()
        self.finish(optim_wrapper)
        return sum(losses.values())

    def _per_tensor(self, balancer, losses, shared, specific, factor, amp,
                    optim_wrapper):
        self.last_path = 'tensors'
        grads = task_gradients(losses, shared, specific, loss_scale=amp,
                               engine=self.engine)
        weights = self.gram_weights(balancer, grads.gram(), losses,
                                    factor * amp, optim_wrapper, self.WHERE)
        self._written = (grads.combine_into(weights, factor), factor * amp)
        self.add_specific(grads.specific, factor)

    def _state_tensors(self, balancer, losses, shared, specific, factor,
                       amp, optim_wrapper):
        """``balancer.aggregate_tensors`` (state as wide as G, e.g. DB-MTL's
        EMA, written straight from the per-task gradients); its direction
        tensors scaled in place and put into ``.grad``."""
        self.last_path = 'tensors'
        grads = task_gradients(losses, shared, specific, loss_scale=amp,
                               engine=self.engine)
        tasks = list(losses)
        loss_vec = torch.stack([losses[t].detach().reshape(())
                                for t in tasks])
        try:
            out = checked_aggregate_tensors(balancer, grads, loss_vec, tasks)
        except NonFiniteTaskRows as err:
            self.stop_nonfinite(err.rows, tasks, optim_wrapper, self.WHERE)
            # loss scaler: a non-finite sum makes it skip and lower its scale
            grads.combine_into(loss_vec.new_ones(len(tasks)), factor)
            self.add_specific(grads.specific, factor)
            return
        scale = factor * amp
        self.accept(balancer, out, tasks, scale)
        written = []
        for p, d in zip(shared, out.direction):
            d = d.mul_(scale) if scale != 1.0 else d
            d = d.to(p.dtype)
            written.append(d)
            if p.grad is None:
                p.grad = d
            else:
                p.grad.add_(d)
        self._written = (written, scale)
        self.add_specific(grads.specific, factor)

    def _gramian(self, balancer, losses, shared, specific, factor, amp,
                 optim_wrapper, convs=None):
        """The Gramian engine's step; on trial in ``'auto'``, a pass that
        cannot be vmapped hands the step to the per-tensor path for good."""
        self.last_path = 'gramian'
        try:
            M, specific_grads = task_gramian(losses, shared, specific, amp,
                                             convs=convs)
        except (RuntimeError, NotImplementedError) as err:
            if self.engine.mode == 'gramian':
                raise
            self.engine.gramian_failed(err)
            self._per_tensor(balancer, losses, shared, specific, factor,
                             amp, optim_wrapper)
            return
        finally:
            if convs is not None:
                convs.clear()
        weights = self.gram_weights(balancer, M, losses, factor * amp,
                                    optim_wrapper, self.WHERE)
        coef = weights.detach().to(M.dtype) * (factor * amp)
        total = sum(c * losses[t] for c, t in zip(coef, losses))
        torch.autograd.backward(total, inputs=list(shared))
        self.add_specific(specific_grads, factor)

    def _matrix(self, balancer, losses, shared, specific, factor, amp,
                optim_wrapper):
        self.last_path = 'matrix'
        grads = task_gradients(losses, shared, specific, loss_scale=amp,
                               engine=self.engine)
        G = grads.matrix(out=self._buffer)
        self._buffer = G
        if is_distributed():
            torch.distributed.all_reduce(G)
            G /= world_size()
        if self.check_task_rows(G, list(losses), optim_wrapper, self.WHERE):
            combined = G.sum(0)  # non-finite: the loss scaler skips it
        else:
            combined = self.aggregate(balancer, G, losses, factor * amp,
                                      numels=[p.numel() for p in shared])
        write_flat_grad(shared, combined * (factor * amp), copy=False)
        self.add_specific(grads.specific, factor)
        self._direction = combined


@STEPS.register_module(name='features')
class FeatureStep(_MatrixStep):
    """Gradient-level balancers on the shared feature maps: ``level=
    'features'`` of any gradient method (LibMTL's ``rep_grad``), MGDA-UB.

    The heads read detached leaf copies Z of the trunk's maps; the per-task
    gradients of Z are aggregated and the combined feature gradient is
    back-propagated once through the trunk. A
    :attr:`~mtlbox.balancers.BaseBalancer.gramian` balancer gets
    ``M = sum_k G_k G_k^T`` accumulated per feature map and the combination
    is formed per map (no [T, F] matrix); others get G [T, F]. Under DDP
    the global batch's feature gradient is every rank's concatenated (the
    matrix path). Needs an architecture whose heads all read the one
    shared representation (no shared parameters of its own: HPS).
    """

    detach_shared = True
    WHERE = 'per-task gradient of the shared features'
    #: which path the last step took: 'tensors' or 'matrix'
    last_path = None

    def __call__(self, model, data, losses, feature_leaves, trunk,
                 optim_wrapper):
        balancer = model.balancer
        arch = model.architecture
        if arch.shared_parameters():
            raise ValueError(
                f"{type(balancer).__name__} at level='features' balances "
                'the gradients of one shared representation, but the '
                f'architecture {type(arch).__name__} has shared parameters '
                'of its own after the trunk (each head reads its own mix): '
                "use level='grads', or architecture=dict(type='HPS')")
        self.last_aggregation = None
        device = next(iter(losses.values())).device
        factor, amp = self.count_and_factors(optim_wrapper, device)
        specific = {t: model.task_parameters(t) for t in losses}
        if balancer.gramian and not is_distributed():
            self.last_path = 'tensors'
            grads = task_gradients(losses, feature_leaves, specific,
                                   loss_scale=amp, engine=self.engine)
            weights = self.gram_weights(balancer, grads.gram(), losses,
                                        factor * amp, optim_wrapper,
                                        self.WHERE)
            pieces = [torch.zeros_like(f) if d is None else d
                      for f, d in zip(trunk, grads.combine(
                          weights, factor, inplace=True))]
            self.last_direction = torch.cat(
                [d.reshape(-1) for d in pieces]) / (factor * amp)
            specific_grads = grads.specific
        else:
            self.last_path = 'matrix'
            combined, specific_grads = self._matrix(
                balancer, losses, feature_leaves, specific, factor, amp,
                optim_wrapper)
            self.last_direction = combined
            combined = combined * (factor * amp)
            pieces, offset = [], 0
            for f in trunk:
                pieces.append(combined[offset:offset + f.numel()]
                              .view_as(f).to(f.dtype))
                offset += f.numel()
        torch.autograd.backward(trunk, pieces)
        self.add_specific(specific_grads, factor)
        self.finish(optim_wrapper)
        return sum(losses.values())

    def _matrix(self, balancer, losses, feature_leaves, specific, factor,
                amp, optim_wrapper):
        G, specific_grads = task_gradient_matrix(
            losses, feature_leaves, specific, loss_scale=amp,
            all_reduce=False, engine=self.engine)  # gathered below
        ranks = world_size()
        tasks = list(losses)
        if ranks > 1:
            # losses are rank means (1/N each): aggregate the global
            # matrix, back-propagate this rank's slice N times (gradients
            # are then averaged over ranks)
            G_all, offset = all_gather_columns(G / ranks)
            if self.check_task_rows(G_all, tasks, optim_wrapper, self.WHERE):
                combined = G.sum(0)
            else:
                combined = self.aggregate(balancer, G_all, losses,
                                          factor * amp)
                combined = combined[offset:offset + G.shape[1]] * ranks
        elif self.check_task_rows(G, tasks, optim_wrapper, self.WHERE):
            combined = G.sum(0)
        else:
            combined = self.aggregate(balancer, G, losses, factor * amp)
        return combined, specific_grads


@STEPS.register_module(name='samples')
class SampleStep(BalancedStep):
    """Sample-level balancers (SLGrad).

    1. ``v`` = gradient of the main task's loss on a held-out batch
       (``balancer.next_val_batch()``) w.r.t. the shared parameters
       (averaged over ranks);
    2. per-sample losses ``l_{t,i}`` [T, B] and labelled masks
       (``model.loss_by_sample``, reusing the step's trunk maps so the
       backbone runs once);
    3. scores ``s = J v`` (:func:`~mtlbox.balancers.sample.engine.
       sample_scores`), weights ``w`` normalised over the global batch;
    4. one backward of ``sum w * l``.

    The last step's scores and weights [T, B] are kept in
    :attr:`last_scores` / :attr:`last_weights`; the task weights
    ``sum_i w_{t,i}`` are recorded as ``balancer.task_weights``.
    """

    last_scores = last_weights = None

    def __call__(self, model, data, losses, shared_maps, trunk,
                 optim_wrapper):
        from mtlbox.balancers.sample.engine import (check_scores,
                                                    main_task_gradient,
                                                    sample_scores)
        from mtlbox.balancers.sample.slgrad import slgrad_weights
        balancer = model.balancer
        tasks = list(losses)
        shared = model.shared_parameters()
        direction = main_task_gradient(model, balancer.next_val_batch(),
                                       balancer.main_task, shared)
        if is_distributed():
            direction = [all_reduce_mean(d) for d in direction]
        with optim_wrapper.optim_context(model):
            per_sample = model.loss_by_sample(
                data['inputs'], data['data_samples'], tasks, trunk)
        L = torch.stack([per_sample[t][0] for t in tasks])
        mask = torch.stack([per_sample[t][1] for t in tasks])
        scores = sample_scores(per_sample, shared, direction)
        bad = check_scores(scores, direction, tasks, balancer.main_task,
                           optim_wrapper)
        if bad is not None:
            self.skip_counted(optim_wrapper, L.device)
            raise bad
        ranks = world_size()
        if ranks > 1:
            # global batch: normalise over every rank's (t, i); gradients
            # are averaged over ranks afterwards, hence the factor N below
            pos = scores.clamp_min(0) * mask.to(scores.dtype)
            denom = all_reduce_sum(pos.sum())
            weights = torch.where(denom > 0, pos / denom.clamp_min(1e-30),
                                  torch.zeros_like(pos))
        else:
            weights = slgrad_weights(scores, mask)
        self.last_scores, self.last_weights = scores, weights
        balancer.record_task_weights(tasks, weights.sum(1))
        total = (weights * L).sum()
        self.backward(optim_wrapper, total * ranks)
        self.finish(optim_wrapper)
        return total.detach()


def build_step(family: str, grad_engine: str = 'auto',
               balancer_name: str = 'the balancer') -> BalancedStep:
    """The registered strategy of the balancer family ``family``
    (``balancer.needs``)."""
    STEPS.import_from_location()
    cls = STEPS.get(family)
    if cls is None:
        raise ValueError(
            f'{balancer_name} has needs={family!r}; no step strategy is '
            f'registered under that name (registered: '
            f'{sorted(STEPS.module_dict)}); a plugin registers one with '
            "@STEPS.register_module(name=...)")
    step = cls(grad_engine=grad_engine)
    step.family = family
    return step
