"""The interface every loss balancer implements."""
from typing import Dict, List, Optional

import torch
from torch import Tensor, nn


class BaseBalancer(nn.Module):
    """Decides how per-task losses (or per-task gradients) become one update.

    A balancer is built by :class:`~mtlbox.models.MultiTaskModel` with the
    list of task names (the keys of ``heads``). Its state lives in buffers and
    parameters so checkpoints resume it exactly.

    Two paths, chosen by :attr:`needs`:

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


def as_loss_vector(losses: Dict[str, Tensor],
                   tasks: Optional[List[str]] = None) -> Tensor:
    """Stack ``losses`` of ``tasks`` (default: all keys) into a [T] tensor."""
    tasks = list(losses) if tasks is None else tasks
    return torch.stack([losses[t].reshape(()) for t in tasks])
