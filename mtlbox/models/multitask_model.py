"""The multi-task model: shared trunk, sharing architecture, task heads."""
import logging
from collections import OrderedDict
from typing import Dict, List, Optional

import torch
import torch.distributed as dist
from mmengine.logging import print_log
from mmengine.model import BaseModel
from torch import Tensor, nn

from mtlbox.engine.distributed import (NonFiniteGradient, all_reduce_sum,
                                       is_distributed, world_size)
from mtlbox.registry import BALANCERS, MODELS


@MODELS.register_module()
class MultiTaskModel(BaseModel):
    """``data_preprocessor -> backbone -> neck -> architecture -> heads``.

    Args:
        backbone: config of the backbone (returns a list of maps).
        heads: ``{task: head config}``; the key is the task name.
        neck: optional neck config (list of maps -> list of maps).
        architecture: how tasks share features (default ``HPS``).
        balancer: loss balancer config (default ``EW``); built with the
            task names.
        data_preprocessor: default ``MTLDataPreprocessor``.
        nonfinite_loss: ``'skip'`` (default) skips a step whose task loss is
            NaN/inf: no parameter, optimizer or balancer-state change; it is
            counted and logged with the task names. ``'raise'`` stops at once.
        max_consecutive_nonfinite: with ``'skip'``, stop training with a
            ``FloatingPointError`` after this many bad steps in a row.
        grad_engine: how gradient-level balancers get the per-task gradient
            matrix: ``'auto'`` (time both on the first two steps, keep the
            faster; for a balancer whose weights depend on ``G G^T`` only,
            then also the per-tensor path against the ``'gramian'`` engine
            on four alternating steps, keeping the faster; no vmapped
            trial where 6 x T x the largest saved activation exceeds the
            memory available; ``balanced_step.engine.remeasure()``
            measures again),
            ``'sequential'`` (one ``autograd.grad`` per task),
            ``'batched'`` (one vmapped vector-Jacobian product) or
            ``'gramian'`` (memory-light: only the Gram matrix ``G G^T`` is
            kept, then one weighted backward; gramian balancers only, see
            docs/balancers.md#gradient-engines).

    ``loss()`` returns ``{f'{task}.loss_{name}': scalar}`` for the tasks with
    at least one labelled sample in the batch. ``train_step()`` sums each
    task's components, hands the per-task losses to the balancer and steps
    the ``OptimWrapper`` (AMP, accumulation and clipping keep working).
    """

    #: loss terms one head may return under data parallelism (the fixed
    #: layout of the all-reduced avg_factors)
    MAX_LOSS_TERMS = 8

    def __init__(self,
                 backbone: dict,
                 heads: Dict[str, dict],
                 neck: Optional[dict] = None,
                 architecture: Optional[dict] = None,
                 balancer: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 nonfinite_loss: str = 'skip',
                 max_consecutive_nonfinite: int = 5,
                 grad_engine: str = 'auto',
                 init_cfg=None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='MTLDataPreprocessor')
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not heads:
            raise ValueError('MultiTaskModel needs at least one entry in heads')
        self.tasks = list(heads)
        if nonfinite_loss not in ('skip', 'raise'):
            raise ValueError(f"nonfinite_loss={nonfinite_loss!r}: use 'skip' "
                             "or 'raise'")
        self.nonfinite_loss = nonfinite_loss
        from mtlbox.balancers.task_grads import MODES
        if grad_engine not in MODES:
            raise ValueError(f'grad_engine={grad_engine!r}: use one of '
                             f'{MODES}')
        self.grad_engine = grad_engine
        self.max_consecutive_nonfinite = max_consecutive_nonfinite
        # counters live in buffers so they survive resume
        self.register_buffer('nonfinite_steps', torch.zeros((), dtype=torch.long))
        self.register_buffer('nonfinite_streak',
                             torch.zeros((), dtype=torch.long))
        for task in self.tasks:
            if '.' in task or '/' in task:
                raise ValueError(f'task name {task!r} may not contain "." or'
                                 ' "/" (they separate task and loss names)')
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        architecture = dict(architecture or dict(type='HPS'))
        architecture.setdefault('tasks', self.tasks)
        self.architecture = MODELS.build(architecture)
        self.heads = nn.ModuleDict()
        for task, cfg in heads.items():
            head = MODELS.build(cfg)
            head.task = task
            self.heads[task] = head
        balancer = dict(balancer or dict(type='EW'))
        balancer.setdefault('tasks', self.tasks)
        self.balancer = BALANCERS.build(balancer)
        if list(self.balancer.tasks) != self.tasks:
            raise ValueError(f'balancer tasks {self.balancer.tasks} differ '
                             f'from the heads {self.tasks}')
        if grad_engine == 'gramian' and not (
                self.balancer.needs == 'grads' and self.balancer.gramian):
            raise ValueError(
                f"grad_engine='gramian' needs a gradient-level balancer whose"
                f' weights depend on the Gram matrix only (gramian=True); '
                f'{type(self.balancer).__name__} (needs='
                f'{self.balancer.needs!r}) is not one: use '
                "grad_engine='auto'")
        self._steps = {}  # family -> step strategy (engine state)

    @property
    def balanced_step(self):
        """The owner of the training step: the strategy registered for the
        balancer's family (``STEPS``, :mod:`mtlbox.engine.balanced_step`),
        holding this model's gradient-engine state."""
        return self.step_strategy(self.balancer.needs)

    def step_strategy(self, family: str):
        """This model's step strategy of ``family`` (built once; a balancer
        swapped for one of the same family keeps the engine's choice)."""
        if family not in self._steps:
            from mtlbox.engine.balanced_step import build_step
            self._steps[family] = build_step(
                family, self.grad_engine, type(self.balancer).__name__)
        return self._steps[family]

    # ------------------------------------------------------------ parameters
    def shared_parameters(self) -> List[nn.Parameter]:
        """Backbone, neck and the shared part of the architecture."""
        params = list(self.backbone.parameters())
        if self.neck is not None:
            params += list(self.neck.parameters())
        params += self.architecture.shared_parameters()
        return [p for p in params if p.requires_grad]

    def task_parameters(self, task: str) -> List[nn.Parameter]:
        """Parameters only ``task``'s loss reaches (head + architecture)."""
        params = list(self.heads[task].parameters())
        params += self.architecture.task_parameters(task)
        return [p for p in params if p.requires_grad]

    # --------------------------------------------------------------- forward
    def extract_feat(self, inputs: Tensor) -> List[Tensor]:
        """Shared features (backbone, then neck)."""
        feats = self.backbone(inputs)
        if self.neck is not None:
            feats = self.neck(feats)
        return list(feats)

    def input_image(self, inputs: Tensor) -> Tensor:
        """The batch as an image in [0, 1] (the preprocessor's ``(x - mean)
        / std`` undone, channel order as the model sees it), for heads with
        ``needs_input_image`` (a residual enhancement head)."""
        pre = self.data_preprocessor
        if getattr(pre, '_enable_normalize', False):
            inputs = inputs * pre.std + pre.mean
        return inputs / 255.0

    def head_kwargs(self, head, inputs: Tensor, cache: dict) -> dict:
        """``{'inputs': image}`` for a head that reads the input image
        (computed once per batch through ``cache``), else ``{}``."""
        if not getattr(head, 'needs_input_image', False):
            return {}
        if 'inputs' not in cache:
            cache['inputs'] = self.input_image(inputs)
        return cache

    def forward(self, inputs, data_samples=None, mode='tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            feats = self.architecture(self.extract_feat(inputs), self.tasks)
            return {t: self.heads[t](feats[t]) for t in self.tasks}
        raise ValueError(f'mode={mode!r}: expected loss, predict or tensor')

    def loss(self, inputs, data_samples) -> Dict[str, Tensor]:
        return self._loss_and_features(inputs, data_samples)[0]

    def _loss_and_features(self, inputs, data_samples, detach_shared=False):
        """Losses, plus the shared maps the heads read and the trunk's maps
        (the same tensors unless ``detach_shared``: then the heads read leaf
        copies so per-task gradients of the features are cheap to get).

        Under data parallelism (:mod:`mtlbox.engine.distributed`) a task
        labelled on any rank is present on all: a rank without its labels
        contributes an exact zero loss, and every loss term is renormalised
        by its global count (``local_sum / global_count * N``) so that
        averaging over ranks gives the global-batch loss and gradient. A
        term's count is the avg_factor the head returned with it
        (:class:`~mtlbox.models.losses.HeadLosses`: valid pixels of a masked
        mean, positive anchors of the detection loss), else the head's number
        of labelled samples.
        """
        trunk = self.extract_feat(inputs)
        shared = trunk
        if detach_shared:  # needs='features' balancers (MGDA-UB)
            shared = [f.detach().requires_grad_() for f in trunk]
        local = [t for t in self.tasks
                 if any(s.is_labeled(self.heads[t].key) for s in data_samples)]
        tasks = local
        if is_distributed():
            present = torch.tensor([float(t in local) for t in self.tasks])
            present = all_reduce_sum(present)
            tasks = [t for t, p in zip(self.tasks, present.tolist()) if p > 0]
        per_task = self.architecture(shared, local)
        losses = OrderedDict()
        counts = {}
        cache = {}
        for task in local:
            head = self.heads[task]
            head_losses = head.loss(per_task[task], data_samples,
                                    **self.head_kwargs(head, inputs, cache))
            factors = getattr(head_losses, 'avg_factors', {})
            labelled = float(sum(s.is_labeled(head.key) for s in data_samples))
            counts[task] = [factors.get(name, labelled)
                            for name in head_losses]
            for name, value in head_losses.items():
                losses[f'{task}.{name}'] = value
        if is_distributed():
            losses = self._global_normalise(losses, counts, tasks, shared)
        return losses, shared, trunk

    def _global_normalise(self, losses, counts, tasks, shared):
        """Each term ``local_sum / local_avg`` -> ``local_sum / mean over
        ranks of avg``: term k of task t is scaled by its own avg_factor's
        ratio (slot [t, k]; a rank without the task has zeros)."""
        slots = self.MAX_LOSS_TERMS
        local = torch.zeros(len(self.tasks), slots, dtype=torch.float64)
        for task, factors in counts.items():
            if len(factors) > slots:
                raise ValueError(
                    f'head {task!r} returned {len(factors)} loss terms; '
                    f'data parallelism supports at most {slots} per head')
            local[self.tasks.index(task), :len(factors)] = torch.tensor(
                factors, dtype=torch.float64)
        mean_count = all_reduce_sum(local) / world_size()
        out = OrderedDict()
        for task in tasks:
            i = self.tasks.index(task)
            keys = [k for k in losses if k.split('.', 1)[0] == task]
            if not keys:  # labelled elsewhere: exact zero, graph attached
                out[f'{task}.loss_absent'] = sum(f.sum() for f in shared) * 0
                continue
            for k, key in enumerate(keys):
                scale = float(local[i, k] / mean_count[i, k]) \
                    if mean_count[i, k] > 0 else 1.0
                out[key] = losses[key] * scale
        return out

    def predict(self, inputs, data_samples):
        feats = self.architecture(self.extract_feat(inputs), self.tasks)
        cache = {}
        for task in self.tasks:
            head = self.heads[task]
            head.predict(feats[task], data_samples,
                         **self.head_kwargs(head, inputs, cache))
        return data_samples

    # ------------------------------------------------------------- training
    @staticmethod
    def task_losses(losses: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Sum ``{task}.loss_*`` components into ``{task: scalar}``."""
        out = OrderedDict()
        for key, value in losses.items():
            task, name = key.split('.', 1)
            if 'loss' not in name:
                continue
            out[task] = out[task] + value if task in out else value
        return out

    def train_step(self, data, optim_wrapper) -> Dict[str, Tensor]:
        """forward -> per-task losses -> ``balanced_step(losses)``.

        The step strategy (:mod:`mtlbox.engine.balanced_step`) turns the
        losses into gradients and steps ``optim_wrapper``. A NaN/inf loss or
        gradient skips the update (``nonfinite_loss``): BatchNorm
        statistics and the balancer's state are rolled back.
        """
        balancer, step = self.balancer, self.balanced_step
        # BatchNorm statistics of a skipped (non-finite) step are rolled back
        snapshot = self._stat_buffers() if self.nonfinite_loss == 'skip' \
            else None
        with optim_wrapper.optim_context(self), step.forward_context(self):
            data = self.data_preprocessor(data, True)
            losses, shared, trunk = self._loss_and_features(
                data['inputs'], data['data_samples'],
                detach_shared=step.detach_shared)
        per_task = self.task_losses(losses)
        if not per_task:
            raise RuntimeError('no task has a labelled sample in this batch; '
                               'check labeled_tasks of the dataset')
        bad = self._nonfinite_tasks(per_task)
        if bad:
            for buf, saved in snapshot or ():
                buf.copy_(saved)
            # the micro-batch still counts towards gradient accumulation;
            # its window's update is skipped, as for a non-finite gradient
            step.skip_counted(optim_wrapper)
            return self._skip_step(losses, per_task, bad)
        # weigh() runs before the gradient exists and may move the
        # balancer's state (FAMO, GeMTL, RLW); the other families are
        # checked before the balancer runs
        balancer_state = {
            k: v.detach().clone() if torch.is_tensor(v) else v
            for k, v in balancer.state_dict().items()
        } if snapshot is not None and balancer.needs == 'losses' else None
        try:
            total = step(self, data, per_task, shared, trunk, optim_wrapper)
        except NonFiniteGradient as err:
            for buf, saved in snapshot or ():
                buf.copy_(saved)
            if balancer_state is not None:
                balancer.load_state_dict(balancer_state)
            return self._skip_step(losses, per_task, gradient=err)
        self.nonfinite_streak.zero_()
        balancer.after_train_iter(
            {t: v.detach() for t, v in per_task.items()})
        return self._log_vars(losses, per_task, total)

    def loss_by_sample(self, inputs, data_samples, tasks, trunk=None):
        """``{task: (losses [B], labelled mask [B])}`` with a live graph
        (sample-level balancers). ``trunk``: the shared maps of ``inputs``
        already computed by the step's forward, so the backbone runs (and
        updates BatchNorm statistics) once."""
        if trunk is None:
            trunk = self.extract_feat(inputs)
        feats = self.architecture(trunk, tasks)
        out, cache = {}, {}
        for task in tasks:
            head = self.heads[task]
            if not hasattr(head, 'loss_by_sample'):
                raise TypeError(
                    f'{type(self.balancer).__name__} needs per-sample losses '
                    f'but the head of task {task!r} ({type(head).__name__}) '
                    'has no loss_by_sample(feats, data_samples) -> (losses '
                    '[B], mask [B])')
            out[task] = head.loss_by_sample(
                feats[task], data_samples,
                **self.head_kwargs(head, inputs, cache))
        return out

    def local_task_loss(self, inputs, data_samples, task) -> Optional[Tensor]:
        """``task``'s summed loss on this batch of this rank (no data-
        parallel renormalisation), or None without a labelled sample."""
        feats = self.architecture(self.extract_feat(inputs), [task])
        head = self.heads[task]
        losses = head.loss(feats[task], data_samples,
                           **self.head_kwargs(head, inputs, {}))
        terms = [v for k, v in losses.items() if 'loss' in k]
        return sum(terms) if terms else None

    def _stat_buffers(self):
        """(buffer, copy) of the running statistics a forward updates."""
        return [(b, b.detach().clone()) for name, b in self.named_buffers()
                if not name.startswith(('balancer.', 'nonfinite_'))]

    def _nonfinite_tasks(self, per_task) -> List[str]:
        """Tasks whose loss is NaN/inf on this (or, under DDP, any) rank."""
        flags = torch.stack([~torch.isfinite(v.detach()) for v in
                             per_task.values()]).to(torch.float32)
        if dist.is_available() and dist.is_initialized():
            # every rank must take the same decision; tasks may differ per
            # rank, so reduce over all model tasks in a fixed order
            full = flags.new_zeros(len(self.tasks))
            for task, flag in zip(per_task, flags):
                full[self.tasks.index(task)] = flag
            dist.all_reduce(full)
            return [t for t, f in zip(self.tasks, full.tolist()) if f > 0]
        return [t for t, f in zip(per_task, flags.tolist()) if f > 0]

    def _gradient_culprits(self, err: NonFiniteGradient):
        """(tasks, message) for a non-finite gradient of finite losses.

        The engine names the tasks when it has per-task gradients. With
        only the combined gradient (loss-level balancers) the tasks are
        those whose own parameters (head, task part of the architecture)
        got a non-finite gradient: only that task's loss reaches them.
        """
        names = {id(p): n for n, p in self.named_parameters()}
        params = [names.get(id(p), f'<{tuple(p.shape)} tensor>')
                  for p in err.params]
        shown = ', '.join(params[:8]) + (
            f', ... ({len(params)} tensors)' if len(params) > 8 else '')
        where = f' in {len(params)} parameter tensor(s): {shown}' \
            if params else ''
        if err.tasks is not None:
            return err.tasks, f'non-finite {err.where}{where}'
        bad = {id(p) for p in err.params}
        owned = torch.tensor([
            float(any(id(p) in bad for p in self.task_parameters(t)))
            for t in self.tasks])
        if is_distributed():
            # every rank is here together (the skip decision is global):
            # name the tasks found on any rank
            owned = all_reduce_sum(owned)
        tasks = [t for t, f in zip(self.tasks, owned.tolist()) if f > 0]
        if tasks:
            return tasks, (f'non-finite {err.where}{where}; the own '
                           'parameters of these tasks are affected')
        if not params:
            return [], (f'non-finite {err.where}; only shared parameters '
                        'there, so the task cannot be told from the combined'
                        f' gradient of {type(self.balancer).__name__}')
        return [], (f'non-finite {err.where}{where}; only shared parameters'
                    ' are affected, so the task cannot be told from the '
                    f'combined gradient of {type(self.balancer).__name__} '
                    '(a gradient-level balancer such as PCGrad checks each'
                    " task's gradient and names it)")

    def _skip_step(self, losses, per_task, bad=None, gradient=None):
        self.nonfinite_steps += 1
        self.nonfinite_streak += 1
        if gradient is None:
            values = ', '.join(f'{t}={per_task[t].item()}' for t in bad
                               if t in per_task)
            message = f'non-finite loss for task(s) {bad} ({values})'
            advice = ('Lower the learning rate, check the labels of these '
                      'tasks, or enable gradient clipping.')
        else:
            bad, detail = self._gradient_culprits(gradient)
            values = ', '.join(f'{t}={v.item():.4g}'
                               for t, v in per_task.items())
            message = (f'non-finite gradient for task(s) {bad}; the losses '
                       f'are finite ({values}): {detail}')
            advice = ('Check the loss of these tasks for operations with an'
                      ' infinite derivative at the value reached (sqrt or '
                      'norm of 0, log of 0, acos of +-1); gradient clipping '
                      'does not help with NaN.')
        message += (f'; {self.nonfinite_streak.item()} bad step(s) in a row, '
                    f'{self.nonfinite_steps.item()} in total')
        if (self.nonfinite_loss == 'raise' or self.nonfinite_streak.item() >=
                self.max_consecutive_nonfinite):
            raise FloatingPointError(
                message + '; stopping (max_consecutive_nonfinite='
                f'{self.max_consecutive_nonfinite}). ' + advice)
        print_log(message + '; step skipped', logger='current',
                  level=logging.WARNING)
        log_vars = OrderedDict(
            loss=torch.tensor(float('nan')),
            nonfinite_steps=self.nonfinite_steps.detach().clone().float())
        return log_vars

    def _log_vars(self, losses, per_task, total):
        log_vars = OrderedDict()
        log_vars['loss'] = total.detach()
        for key, value in losses.items():
            log_vars[key] = value.detach()
        for task, weight in self.balancer.task_weights.items():
            if task in per_task:
                log_vars[f'{task}.weight'] = torch.tensor(float(weight))
        return log_vars
