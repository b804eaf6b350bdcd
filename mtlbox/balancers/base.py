"""The interface every loss balancer implements."""
import inspect
from dataclasses import dataclass
from typing import Dict, List, Optional

import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class Weighting:
    """What a loss-level balancer's :meth:`BaseBalancer.weigh` returns.

    Attributes:
        total: the scalar that is back-propagated once.
        weights: ``[T]`` effective weight of each present task (the order of
            the ``tasks`` argument), logged by the step owner; None when the
            balancer has no per-task weight to report.
    """

    total: Tensor
    weights: Optional[Tensor] = None


@dataclass(frozen=True)
class Aggregation:
    """What a gradient-level balancer's :meth:`BaseBalancer.aggregate`
    returns.

    Attributes:
        direction: the combined gradient ``[P]``; None means
            ``weights @ G`` (the step owner forms it, possibly per
            parameter tensor without materialising it).
        weights: ``[T]`` task weights of the present tasks (logged); when
            ``direction`` is given they are what the docs call the method's
            weights (e.g. MGDA's simplex point).
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

    Four step families, chosen by :attr:`needs`:

    - ``'losses'``: :meth:`weigh` turns ``{task: scalar loss}`` into the total
      loss that is back-propagated once.
    - ``'grads'`` / ``'features'``: the gradient engine
      (:mod:`mtlbox.balancers.task_grads`) computes the matrix ``G`` [T, P] of
      per-task gradients of the shared parameters (``'grads'``) or of the
      shared feature maps (``'features'``) and :meth:`aggregate` returns the
      combined gradient [P]. Task-specific parameters always receive their own
      task's (unweighted) gradient.
    - ``'samples'``: sample-level balancers (SLGrad) that weigh per-sample
      losses; see :mod:`mtlbox.balancers.sample`.

    Tasks absent from a batch (no labelled sample) are missing from
    ``losses``; rows of ``G`` follow :attr:`tasks` order restricted to the
    present tasks (:meth:`present`).
    """

    needs: str = 'losses'

    def __init__(self, tasks: List[str]):
        super().__init__()
        if not tasks:
            raise ValueError(f'{type(self).__name__} needs at least one task')
        if len(set(tasks)) != len(tasks):
            raise ValueError(f'duplicate task names in {list(tasks)}')
        self.tasks = list(tasks)
        self.task_weights: Dict[str, float] = {t: 1.0 for t in self.tasks}
        # set by the gradient engine before each aggregate(): the tasks whose
        # rows G holds, and read back after it (see task_grads.py)
        self.step_tasks: Optional[List[str]] = None
        #: ``[T]`` factors for the task-specific gradients of the present
        #: tasks (None = unweighted); set by aggregate() of methods whose
        #: loss weights also scale the heads (GradNorm, IMTL, Compose ...)
        self.specific_weights: Optional[Tensor] = None
        self._parameter_loss: Optional[Tensor] = None
        self._lazy_buffers = set()

    @property
    def num_tasks(self) -> int:
        return len(self.tasks)

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

    def rows(self, num_rows: int) -> List[str]:
        """Task names of the ``num_rows`` rows of G in :meth:`aggregate`.

        The engine sets :attr:`step_tasks` before calling ``aggregate``; a
        direct call with all tasks (tests, scripts) needs nothing.
        """
        tasks = self.step_tasks
        if tasks is None and num_rows == self.num_tasks:
            return list(self.tasks)
        if tasks is None or len(tasks) != num_rows:
            raise ValueError(
                f'{type(self).__name__}.aggregate got {num_rows} gradient rows'
                f' but step_tasks={tasks} (tasks {self.tasks}); set '
                'balancer.step_tasks to the present tasks before aggregate()')
        return list(tasks)

    def pop_parameter_loss(self) -> Optional[Tensor]:
        """A scalar whose gradient trains the balancer's own parameters
        (GradNorm's L_grad, IMTL-L's scaled losses ...), produced by the
        last ``aggregate``; the engine back-propagates it with the same
        accumulation/AMP factor as the task losses."""
        loss, self._parameter_loss = self._parameter_loss, None
        return loss

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

    def weigh(self, losses: Dict[str, Tensor]) -> Tensor:
        """Loss-level balancers: ``{task: scalar}`` -> total scalar loss."""
        raise NotImplementedError(
            f'{type(self).__name__} is a {self.needs!r} balancer; '
            'it does not implement weigh()')

    def aggregate(self, grads: Tensor, losses: Tensor) -> Tensor:
        """Gradient-level balancers: G [T, P] and losses [T] -> gradient [P]."""
        raise NotImplementedError(
            f'{type(self).__name__} is a {self.needs!r} balancer; '
            'it does not implement aggregate()')

    def _set_task_weights(self, tasks: List[str], weights) -> None:
        weights = torch.as_tensor(weights).detach().flatten().tolist()
        self.task_weights = {t: 0.0 for t in self.tasks}
        self.task_weights.update(zip(tasks, weights))

    def after_train_iter(self, losses: Dict[str, Tensor]) -> None:
        """Called by the model after each training step (detached losses)."""

    def after_train_epoch(self, epoch: int) -> None:
        """Called by :class:`~mtlbox.engine.BalancerHook` after each epoch."""

    def after_val(self, metrics: Dict[str, float]) -> None:
        """Called by :class:`~mtlbox.engine.BalancerHook` with val metrics."""

    def extra_repr(self) -> str:
        return f'tasks={self.tasks}'


def takes_arg(method, name: str) -> bool:
    """Whether ``method`` accepts the argument ``name``."""
    return name in inspect.signature(method).parameters


def takes_tasks(method) -> bool:
    """Whether an ``aggregate`` follows the pure contract
    ``aggregate(G, losses, tasks) -> Aggregation``."""
    return takes_arg(method, 'tasks')


def as_loss_vector(losses: Dict[str, Tensor],
                   tasks: Optional[List[str]] = None) -> Tensor:
    """Stack ``losses`` of ``tasks`` (default: all keys) into a [T] tensor."""
    tasks = list(losses) if tasks is None else tasks
    return torch.stack([losses[t].reshape(()) for t in tasks])
