"""The interface every loss balancer implements."""
import inspect
from dataclasses import dataclass
from typing import Dict, List, Optional

import torch
from torch import Tensor, nn

from mtlbox.utils.signature import takes_arg


class NonFiniteTaskRows(FloatingPointError):
    """Raised by :meth:`BaseBalancer.aggregate_tensors` (before it changes
    its state) when the gradients of some tasks are not finite; ``rows``:
    their positions in the call's ``tasks``. The step skips the update (or,
    under an AMP loss scaler, lets the scaler skip it)."""

    def __init__(self, rows: List[int]):
        super().__init__(f'non-finite per-task gradients in rows {rows}')
        self.rows = list(rows)


@dataclass(frozen=True)
class Weighting:
    """What a loss-level balancer's :meth:`BaseBalancer.weigh` returns.

    Attributes:
        total: the scalar that is back-propagated once.
        weights: ``[T]`` effective weight of each present task, in
            :meth:`BaseBalancer.present` order (the balancer's task order),
            recorded by the step owner; None when the balancer has no
            per-task weight to report (``task_weights`` then stays as it
            was).
    """

    total: Tensor
    weights: Optional[Tensor] = None


@dataclass(frozen=True)
class Aggregation:
    """What a gradient-level balancer's :meth:`BaseBalancer.aggregate`
    returns.

    Attributes:
        direction: the combined gradient ``[P]`` (from
            :meth:`BaseBalancer.aggregate_tensors`: a list of one tensor per
            shared tensor, shaped as it); None means
            ``weights @ G`` (the step owner forms it, possibly per
            parameter tensor without materialising it).
        weights: ``[T]`` task weights of the rows of G (recorded by the step
            owner as ``task_weights``); when ``direction`` is given they are
            only reported: what the docs call the method's weights (DB-MTL's
            norm scales, MoCo's lambda ...). Give ``weights`` alone wherever
            the update is exactly ``weights @ G``.
        specific_weights: ``[T]`` factors for each task's own-parameter
            gradient (None: unweighted), for methods whose loss weights also
            scale the heads (GradNorm, IMTL, Compose ...).
        parameter_loss: a scalar whose gradient trains the balancer's own
            parameters (GradNorm's L_grad ...), back-propagated by the step
            owner with the same AMP / accumulation factor as the losses.
    """

    direction: Optional[Tensor] = None
    weights: Optional[Tensor] = None
    specific_weights: Optional[Tensor] = None
    parameter_loss: Optional[Tensor] = None

    def __post_init__(self):
        if self.direction is None and self.weights is None:
            raise ValueError('an Aggregation needs a direction or weights')

    def combined(self, grads: Tensor) -> Tensor:
        """The direction ``[P]`` (``weights @ G`` when none was given)."""
        if self.direction is not None:
            return self.direction
        return self.weights.to(grads.dtype) @ grads


class BaseBalancer(nn.Module):
    """Decides how per-task losses (or per-task gradients) become one update.

    A balancer is built by :class:`~mtlbox.models.MultiTaskModel` with the
    list of task names (the keys of ``heads``). Its state lives in buffers and
    parameters so checkpoints resume it exactly.

    Four step families, chosen by :attr:`needs`, each owned by a step
    strategy of :mod:`mtlbox.engine.balanced_step`:

    - ``'losses'``: :meth:`weigh` turns ``{task: scalar loss}`` into a
      :class:`Weighting` whose ``total`` is back-propagated once.
    - ``'grads'`` / ``'features'``: the gradient engine
      (:mod:`mtlbox.balancers.task_grads`) computes the matrix ``G`` [T, P] of
      per-task gradients of the shared parameters (``'grads'``) or of the
      shared feature maps (``'features'``) and :meth:`aggregate` returns an
      :class:`Aggregation` (``weights`` [T], the update being ``weights @ G``,
      or an explicit ``direction`` [P]). Task-specific parameters always
      receive their own task's gradient (times ``specific_weights`` when
      the Aggregation has them).
    - ``'samples'``: sample-level balancers (SLGrad) that weigh per-sample
      losses; the step (``SampleStep``) does the work, the balancer holds
      the held-out stream and the hyperparameters.

    The contract is pure: the step passes everything in (``losses``; ``G``,
    the loss vector and the row names ``tasks``) and takes everything from
    the returned value; nothing is set on the balancer before the call or
    read from it after, apart from its own state (buffers, parameters).
    The step owner records the returned weights with
    :meth:`record_task_weights` into :attr:`task_weights`, which the model's
    log variables (``<task>.weight``) and ``BalancerHook`` read.

    Tasks absent from a batch (no labelled sample) are missing from
    ``losses``; rows of ``G`` follow :attr:`tasks` order restricted to the
    present tasks (:meth:`present`), named by ``tasks``.
    """

    needs: str = 'losses'

    def __init__(self, tasks: List[str]):
        super().__init__()
        if not tasks:
            raise ValueError(f'{type(self).__name__} needs at least one task')
        if len(set(tasks)) != len(tasks):
            raise ValueError(f'duplicate task names in {list(tasks)}')
        self.tasks = list(tasks)
        #: the effective weight of every task at the last step (0 for a task
        #: absent from it), written by the step owner
        #: (:meth:`record_task_weights`), not by the balancer's own methods
        self.task_weights: Dict[str, float] = {t: 1.0 for t in self.tasks}
        self._lazy_buffers = set()

    @property
    def num_tasks(self) -> int:
        return len(self.tasks)

    #: the levels a gradient-level balancer can act on (``level=`` in its
    #: config): the shared parameters or the shared feature maps
    LEVELS = ('grads', 'features')

    def set_level(self, level: str) -> None:
        """Aggregate per-task gradients of the shared parameters
        (``'grads'``) or of the shared feature maps (``'features'``,
        LibMTL's ``rep_grad``): the config key ``level`` of every
        gradient-level balancer, applied by the ``BALANCERS`` registry after
        the balancer is built. At feature level G is [T, F] (F = the
        trunk's output values of the batch) and the combined feature
        gradient is back-propagated once through the trunk
        (:class:`~mtlbox.engine.balanced_step.FeatureStep`)."""
        name = type(self).__name__
        if level not in self.LEVELS:
            raise ValueError(f'{name} level={level!r}: expected one of '
                             f'{self.LEVELS}')
        if self.needs not in self.LEVELS:
            raise ValueError(
                f'{name} level={level!r}: {name} is not a gradient-level '
                f'balancer (needs={self.needs!r}; loss-level and sample-'
                'level balancers have no level): drop level')
        self.needs = level

    def check_state_width(self, state: str, width: int, new: int) -> None:
        """A balancer keeping per-column state of G (an EMA [T, P]) calls
        this before re-initialising it for a G of another width. At
        feature level the width is the trunk's output size of the batch,
        so a change (a smaller last batch, multi-scale inputs) would
        silently restart the state: an error names it and the fix."""
        if self.needs == 'features' and width and width != new:
            raise ValueError(
                f'{type(self).__name__} (level=\'features\') keeps {state} '
                f'of the per-task feature gradients, {width} values wide, '
                f'but this batch has {new}: the batch size or the input '
                'size changed. Use a fixed input size and drop_last=True in '
                "the train_dataloader, or level='grads'")

    def present(self, losses: Dict[str, Tensor]) -> List[str]:
        """Tasks of ``losses`` in :attr:`tasks` order; unknown keys fail."""
        unknown = set(losses) - set(self.tasks)
        if unknown:
            raise KeyError(f'{type(self).__name__} got losses for '
                           f'{sorted(unknown)} but was built for {self.tasks}')
        return [t for t in self.tasks if t in losses]

    def index(self, tasks: List[str]) -> Tensor:
        """Positions of ``tasks`` in :attr:`tasks`, to index per-task state."""
        return torch.tensor([self.tasks.index(t) for t in tasks])

    def record_task_weights(self, tasks: List[str], weights) -> None:
        """Record the weights ``[T]`` of the present ``tasks`` (returned in a
        :class:`Weighting` or :class:`Aggregation`) as :attr:`task_weights`;
        absent tasks get 0. Called by the step owner
        (:mod:`mtlbox.engine.balanced_step`) after each ``weigh`` /
        ``aggregate``, never by a balancer."""
        weights = torch.as_tensor(weights).detach().flatten().tolist()
        if len(weights) != len(tasks):
            raise ValueError(
                f'{type(self).__name__} returned {len(weights)} task weights '
                f'for the {len(tasks)} present tasks {list(tasks)}')
        self.task_weights = {t: 0.0 for t in self.tasks}
        self.task_weights.update(zip(tasks, weights))

    # ------------------------------------------------------ state helpers
    def register_rng(self, seed: int) -> None:
        """Keep a CPU random generator's state in the buffer ``rng_state``
        so a checkpoint resumes the random stream exactly."""
        self.register_buffer('rng_state',
                             torch.Generator().manual_seed(seed).get_state())

    def generator(self) -> torch.Generator:
        """A generator at the stored state; call :meth:`save_rng` after use."""
        gen = torch.Generator()
        gen.set_state(self.rng_state.cpu())
        return gen

    def save_rng(self, gen: torch.Generator) -> None:
        self.rng_state = gen.get_state()

    def register_lazy_buffer(self, name: str) -> None:
        """A buffer whose shape is known only at the first step (e.g. an EMA
        of G [T, P]); loading a checkpoint gives it the saved shape."""
        self.register_buffer(name, torch.zeros(0))
        self._lazy_buffers.add(name)

    def sized_state(self, name: str, width: int, like: Tensor,
                    what: str) -> bool:
        """Give the lazy buffer ``name`` the shape [T, width] (zeros, dtype
        and device of ``like``) unless it has it; returns whether it was
        (re)made. ``what`` names it in the error of
        :meth:`check_state_width`. Also sizes ``<name>_next``, the
        non-persistent buffer :meth:`advance_state` writes into."""
        fresh = getattr(self, name).shape != (self.num_tasks, width)
        if fresh:
            self.check_state_width(what, getattr(self, name).shape[-1],
                                   width)
            setattr(self, name, like.new_zeros(self.num_tasks, width))
        if getattr(self, name + '_next').shape != (self.num_tasks, width):
            setattr(self, name + '_next', torch.empty_like(getattr(self,
                                                                   name)))
        return fresh

    def advance_state(self, name: str, grads, rows: List[int],
                      decay: List[float], gain: List[float]) -> Tensor:
        """``state[r_t] <- decay_t state[r_t] + gain_t g_t`` for the present
        tasks (``grads.update_state`` into ``<name>_next``, then the two
        buffers swap); raises :class:`NonFiniteTaskRows` and keeps the state
        as it was when a new row is not finite. Returns the Gram matrix of
        the new present rows."""
        state, spare = getattr(self, name), getattr(self, name + '_next')
        gram = grads.update_state(state, spare, rows, decay, gain)
        bad = torch.nonzero(~torch.isfinite(gram.diagonal())).flatten()
        if bad.numel():
            raise NonFiniteTaskRows(bad.tolist())
        setattr(self, name, spare)
        setattr(self, name + '_next', state)
        return gram

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        for name in self._lazy_buffers:
            saved = state_dict.get(prefix + name)
            if saved is not None:
                setattr(self, name, torch.empty_like(
                    saved, device=getattr(self, name).device))
        if 'rng_state' in self._buffers and prefix + 'rng_state' in state_dict:
            self.rng_state = state_dict[prefix + 'rng_state'].clone()
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _apply(self, fn, *args, **kwargs):
        # the generator state is a CPU byte tensor: keep it off the GPU
        rng = self._buffers.pop('rng_state', None)
        out = super()._apply(fn, *args, **kwargs)
        if rng is not None:
            self._buffers['rng_state'] = rng
        return out

    def weigh(self, losses: Dict[str, Tensor]) -> Weighting:
        """Loss-level balancers: ``{task: scalar}`` (present tasks) ->
        ``Weighting(total, weights)``, weights ``[T]`` in :meth:`present`
        order."""
        raise NotImplementedError(
            f'{type(self).__name__} is a {self.needs!r} balancer; '
            'it does not implement weigh()')

    def aggregate(self, grads: Tensor, losses: Tensor,
                  tasks: List[str]) -> Aggregation:
        """Gradient-level balancers: G [T, P], losses [T] and the names of
        G's rows ``tasks`` -> :class:`Aggregation`."""
        raise NotImplementedError(
            f'{type(self).__name__} is a {self.needs!r} balancer; '
            'it does not implement aggregate()')

    def aggregate_gram(self, gram: Tensor, losses: Tensor,
                       tasks: List[str]) -> Aggregation:
        """Gramian balancers (:class:`GramianBalancer`): the Gram matrix
        ``M = G G^T`` [T, T], losses [T] and the row names ``tasks`` ->
        ``Aggregation(weights=w)``, the update being ``w @ G``."""
        raise NotImplementedError(
            f'{type(self).__name__} needs the per-task gradients themselves, '
            'not only their Gram matrix; it does not implement '
            'aggregate_gram()')

    def aggregate_tensors(self, grads, losses: Tensor,
                          tasks: List[str]) -> Aggregation:
        """Balancers with per-task state as wide as G (EMAs of the
        gradients: DB-MTL, MoCo), optional: the per-task gradients as the
        engine returned them, tensor by tensor
        (:class:`~mtlbox.balancers.task_grads.TaskGradients`: AMP-scaled,
        never concatenated; :meth:`~mtlbox.balancers.task_grads.
        TaskGradients.update_state` writes a linear recursion of the state
        straight from them), losses [T] and the row names ``tasks`` ->
        :class:`Aggregation` whose ``direction`` is a list of one unscaled
        tensor per shared tensor (``grads.shared`` order). It must raise
        :class:`NonFiniteTaskRows` *before* changing any state when a
        task's gradient is not finite. Same values as :meth:`aggregate` on
        the matrix of the same gradients (tested), which the step still
        uses under DDP and at feature level."""
        raise NotImplementedError(
            f'{type(self).__name__} does not implement aggregate_tensors()')

    @property
    def per_tensor(self) -> bool:
        """Whether :meth:`aggregate_tensors` is implemented (the step then
        keeps the per-task gradients per tensor, as for gramian
        balancers)."""
        return (type(self).aggregate_tensors
                is not BaseBalancer.aggregate_tensors)

    @property
    def gramian(self) -> bool:
        """Whether the update is ``w(M) @ G`` with weights that depend on
        the gradients only through ``M = G G^T`` (:meth:`aggregate_gram` is
        implemented): the step can then keep the gradients per tensor and
        never form G, or use the memory-light Gramian engine."""
        return type(self).aggregate_gram is not BaseBalancer.aggregate_gram

    def after_train_iter(self, losses: Dict[str, Tensor]) -> None:
        """Called by the model after each training step (detached losses)."""

    def after_train_epoch(self, epoch: int) -> None:
        """Called by :class:`~mtlbox.engine.BalancerHook` after each epoch."""

    def after_val(self, metrics: Dict[str, float]) -> None:
        """Called by :class:`~mtlbox.engine.BalancerHook` with val metrics."""

    def extra_repr(self) -> str:
        return f'tasks={self.tasks}'


class GramianBalancer(BaseBalancer):
    """A gradient-level balancer whose update is ``w @ G`` with task weights
    ``w`` that depend on G only through the Gram matrix ``M = G G^T``
    (and on the losses and its own state). Subclasses implement
    :meth:`aggregate_gram` (M [T, T] -> ``Aggregation(weights=w)``);
    :meth:`aggregate` on a G [T, P] is ``aggregate_gram(G @ G.T)``. The
    step owner uses that to keep per-task gradients per tensor
    (``M = sum_k G_k G_k^T``, ``p.grad = sum_t w_t g_{t,p}``) or to run the
    memory-light Gramian engine (``grad_engine='gramian'``)."""

    needs = 'grads'

    def aggregate(self, grads: Tensor, losses: Tensor,
                  tasks: List[str]) -> Aggregation:
        return self.aggregate_gram(grads @ grads.T, losses, tasks)


def takes_tasks(method) -> bool:
    """Whether an ``aggregate`` follows the pure contract
    ``aggregate(G, losses, tasks) -> Aggregation``."""
    return takes_arg(method, 'tasks')


def as_loss_vector(losses: Dict[str, Tensor],
                   tasks: Optional[List[str]] = None) -> Tensor:
    """Stack ``losses`` of ``tasks`` (default: all keys) into a [T] tensor."""
    tasks = list(losses) if tasks is None else tasks
    return torch.stack([losses[t].reshape(()) for t in tasks])


#: where the contract is described, for the errors below
CONTRACT_DOC = 'docs/balancers.md#writing-a-plugin-balancer'


def checked_weigh(balancer: BaseBalancer,
                  losses: Dict[str, Tensor]) -> Weighting:
    """``balancer.weigh(losses)``; a return that is not a
    :class:`Weighting` (the former bare-tensor contract) is a TypeError
    naming the balancer and the contract."""
    out = balancer.weigh(losses)
    if not isinstance(out, Weighting):
        raise TypeError(
            f'{type(balancer).__name__}.weigh returned '
            f'{type(out).__name__}; a loss-level balancer returns '
            'Weighting(total=<scalar>, weights=<[T] in present() order>) '
            f'and sets no attribute for the step (see {CONTRACT_DOC})')
    return out


def checked_aggregate_gram(balancer: BaseBalancer, gram: Tensor,
                           losses: Tensor, tasks: List[str]) -> Aggregation:
    """``balancer.aggregate_gram(gram, losses, tasks)``; a return that is
    not an :class:`Aggregation` of weights alone is a TypeError naming the
    balancer (a direction cannot be formed from the Gram matrix)."""
    out = balancer.aggregate_gram(gram, losses, tasks)
    if not isinstance(out, Aggregation) or out.direction is not None:
        raise TypeError(
            f'{type(balancer).__name__}.aggregate_gram returned '
            f'{type(out).__name__}'
            + (' with a direction' if isinstance(out, Aggregation) else '')
            + '; it returns Aggregation(weights=<[T]>) (the update is '
            f'weights @ G; see {CONTRACT_DOC})')
    return out


def checked_aggregate_tensors(balancer: BaseBalancer, grads, losses: Tensor,
                              tasks: List[str]) -> Aggregation:
    """``balancer.aggregate_tensors(grads, losses, tasks)``; a return that
    is not an :class:`Aggregation` whose direction is a list of one tensor
    per shared tensor, shaped as it, is a TypeError naming the balancer."""
    out = balancer.aggregate_tensors(grads, losses, tasks)
    shapes = [tuple(p.shape) for p in grads.shared]
    if not (isinstance(out, Aggregation)
            and isinstance(out.direction, (list, tuple))
            and [tuple(d.shape) for d in out.direction] == shapes):
        got = type(out).__name__ if not isinstance(out, Aggregation) else (
            'a direction of ' + (
                str([tuple(d.shape) for d in out.direction])
                if isinstance(out.direction, (list, tuple))
                else type(out.direction).__name__))
        raise TypeError(
            f'{type(balancer).__name__}.aggregate_tensors returned {got}; '
            'it returns Aggregation(direction=[one tensor per shared '
            f'tensor, shapes {shapes}], weights=<[T]>) (see {CONTRACT_DOC})')
    return out


def checked_aggregate(balancer: BaseBalancer, grads: Tensor, losses: Tensor,
                      tasks: List[str], numels=None) -> Aggregation:
    """``balancer.aggregate(grads, losses, tasks)``, with ``numels`` (the
    numel of each shared tensor, G's column blocks) passed to an
    ``aggregate`` that takes it (GradNorm with ``norm_on=k``). An
    ``aggregate`` without ``tasks`` or a return that is not an
    :class:`Aggregation` (the former side-channel contract) is a TypeError
    naming the balancer and the contract."""
    name = type(balancer).__name__
    if not takes_tasks(balancer.aggregate):
        raise TypeError(
            f'{name}.aggregate{inspect.signature(balancer.aggregate)} has no '
            "'tasks' parameter; a gradient-level balancer implements "
            'aggregate(grads, losses, tasks) -> Aggregation (the rows of '
            f'grads belong to tasks; see {CONTRACT_DOC})')
    kwargs = {}
    if numels is not None and takes_arg(balancer.aggregate, 'numels'):
        kwargs['numels'] = numels
    out = balancer.aggregate(grads, losses, tasks, **kwargs)
    if not isinstance(out, Aggregation):
        raise TypeError(
            f'{name}.aggregate returned {type(out).__name__}; a '
            'gradient-level balancer returns Aggregation(weights=<[T]>) '
            'when its update is weights @ G, else Aggregation('
            'direction=<[P]>, weights=...), with specific_weights / '
            'parameter_loss in the same value, and sets no attribute for the'
            f' step (see {CONTRACT_DOC})')
    return out
