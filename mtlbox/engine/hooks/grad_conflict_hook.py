"""Gradient conflicts between tasks, logged while training."""
import itertools
from typing import Dict, Iterable, List, Optional, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch import Tensor

from mtlbox.registry import HOOKS


def task_gradients(model, data: dict,
                   all_reduce: bool = True) -> Tuple[List[str], Tensor]:
    """Per-task gradients of ``model.shared_parameters()`` on one raw batch
    (as the dataloader yields it): ``(tasks present, G [T, P])``, rows in
    ``model.tasks`` order, computed by the gradient engine
    (:func:`mtlbox.balancers.task_grads.task_gradient_matrix`, averaged over
    DDP ranks when ``all_reduce``). Runs the model in training mode."""
    from mtlbox.balancers.task_grads import task_gradient_matrix
    model.train()
    data = model.data_preprocessor(data, True)
    losses, _, _ = model._loss_and_features(data['inputs'],
                                            data['data_samples'])
    per_task = model.task_losses(losses)
    tasks = [t for t in model.tasks if t in per_task]
    G, _ = task_gradient_matrix({t: per_task[t] for t in tasks},
                                model.shared_parameters(), {},
                                all_reduce=all_reduce)
    return tasks, G


def cosine_matrix(G: Tensor) -> Tensor:
    """``C[i, j] = <g_i, g_j> / (|g_i| |g_j|)`` for the rows of ``G [T, P]``
    (a zero row gives zeros), in float64: a float32 Gram of long rows drifts
    by 1e-4 on the diagonal. Returns ``[T, T]`` float32 on the CPU."""
    unit = torch.nn.functional.normalize(G.double(), dim=1)
    return (unit @ unit.t()).float().cpu()


def task_cosines(model, batches: Iterable[dict]) -> Tensor:
    """Cosines ``[T, T]`` (all of ``model.tasks``) of the per-task shared
    gradients summed over ``batches``; a task absent from every batch has a
    zero row. Used by ``tools/analysis/grad_conflict.py``."""
    total = None
    for data in batches:
        tasks, G = task_gradients(model, data)
        full = G.new_zeros(len(model.tasks), G.shape[1])
        for i, t in enumerate(tasks):
            full[model.tasks.index(t)] = G[i]
        total = full if total is None else total + full
    return cosine_matrix(total)


def pair_scalars(tasks: List[str], cos: Tensor) -> Dict[str, float]:
    """``{'grad_conflict/<a>~<b>': cos[i, j]}`` for every pair i < j."""
    return {f'grad_conflict/{a}~{b}': float(cos[i, j])
            for (i, a), (j, b) in itertools.combinations(enumerate(tasks), 2)}


@HOOKS.register_module()
class GradConflictHook(Hook):
    """Every ``interval`` training iterations, the pairwise cosine
    similarities of the per-task gradients of the shared parameters on the
    current batch, written to the visualizer backends (TensorBoard, W&B,
    MLflow ...) as ``grad_conflict/<task a>~<task b>`` (negative: the tasks
    pull the shared weights apart).

    Cost: one extra forward and T backward passes of the batch every
    ``interval`` iterations, which is about what every step of a
    gradient-level balancer (``needs='grads'``) already does, so those runs
    pay about ``1 / interval`` of their time (2 % at 50). Loss-level runs
    pay the same passes but their step is ~T times cheaper; they are skipped
    unless ``gradient_level_only=False``. Only tasks labelled in the batch
    are compared. The measurement leaves training as it was: BatchNorm
    statistics and the random generators are restored, and no ``.grad`` is
    touched.

    Args:
        interval: iterations between measurements (50).
        gradient_level_only: measure only when the balancer's ``needs`` is
            ``'grads'`` (default True).
    """

    priority = 'LOW'

    def __init__(self, interval: int = 50, gradient_level_only: bool = True):
        if int(interval) < 1:
            raise ValueError(f'GradConflictHook interval={interval} must be '
                             '>= 1')
        self.interval = int(interval)
        self.gradient_level_only = gradient_level_only

    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def _active(self, model) -> bool:
        if not hasattr(model, 'shared_parameters') or len(
                getattr(model, 'tasks', ())) < 2:
            return False
        if not self.gradient_level_only:
            return True
        balancer = getattr(model, 'balancer', None)
        return getattr(balancer, 'needs', 'losses') == 'grads'

    def measure(self, model, data_batch) -> Optional[Dict[str, float]]:
        """The ``grad_conflict/*`` scalars of one batch; model buffers and
        RNG states are as before on return."""
        buffers = {k: v.clone() for k, v in model.named_buffers()}
        cpu_rng = torch.get_rng_state()
        cuda_rng = (torch.cuda.get_rng_state_all()
                    if torch.cuda.is_available() else None)
        try:
            tasks, G = task_gradients(model, dict(data_batch))
        finally:
            with torch.no_grad():
                for k, v in model.named_buffers():
                    v.copy_(buffers[k])
            torch.set_rng_state(cpu_rng)
            if cuda_rng is not None:
                torch.cuda.set_rng_state_all(cuda_rng)
        if len(tasks) < 2:
            return None
        return pair_scalars(tasks, cosine_matrix(G))

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if data_batch is None or not self.every_n_train_iters(
                runner, self.interval):
            return
        model = self._model(runner)
        if not self._active(model):
            return
        scalars = self.measure(model, data_batch)
        if scalars:
            runner.visualizer.add_scalars(scalars, step=runner.iter + 1)
