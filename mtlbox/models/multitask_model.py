"""The multi-task model: shared trunk, sharing architecture, task heads."""
from collections import OrderedDict
from typing import Dict, List, Optional

import torch
from mmengine.model import BaseModel
from torch import Tensor, nn

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

    ``loss()`` returns ``{f'{task}.loss_{name}': scalar}`` for the tasks with
    at least one labelled sample in the batch. ``train_step()`` sums each
    task's components, hands the per-task losses to the balancer and steps
    the ``OptimWrapper`` (AMP, accumulation and clipping keep working).
    """

    def __init__(self,
                 backbone: dict,
                 heads: Dict[str, dict],
                 neck: Optional[dict] = None,
                 architecture: Optional[dict] = None,
                 balancer: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg=None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='MTLDataPreprocessor')
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not heads:
            raise ValueError('MultiTaskModel needs at least one entry in heads')
        self.tasks = list(heads)
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
        copies so per-task gradients of the features are cheap to get)."""
        trunk = self.extract_feat(inputs)
        shared = trunk
        if detach_shared:  # needs='features' balancers (MGDA-UB)
            shared = [f.detach().requires_grad_() for f in trunk]
        tasks = [t for t in self.tasks
                 if any(s.is_labeled(self.heads[t].key) for s in data_samples)]
        per_task = self.architecture(shared, tasks)
        losses = OrderedDict()
        for task in tasks:
            for name, value in self.heads[task].loss(per_task[task],
                                                     data_samples).items():
                losses[f'{task}.{name}'] = value
        return losses, shared, trunk

    def predict(self, inputs, data_samples):
        feats = self.architecture(self.extract_feat(inputs), self.tasks)
        for task in self.tasks:
            self.heads[task].predict(feats[task], data_samples)
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
        from mtlbox.balancers.task_grads import (apply_balanced_step,
                                                 apply_feature_step)
        balancer = self.balancer
        with optim_wrapper.optim_context(self):
            data = self.data_preprocessor(data, True)
            losses, shared, trunk = self._loss_and_features(
                data['inputs'], data['data_samples'],
                detach_shared=balancer.needs == 'features')
        per_task = self.task_losses(losses)
        if not per_task:
            raise RuntimeError('no task has a labelled sample in this batch; '
                               'check labeled_tasks of the dataset')
        self._check_finite(per_task)
        if balancer.needs == 'losses':
            total = balancer.weigh(per_task)
            optim_wrapper.update_params(total)
        elif balancer.needs == 'grads':
            apply_balanced_step(self, balancer, per_task,
                                self.shared_parameters(),
                                {t: self.task_parameters(t) for t in per_task},
                                optim_wrapper)
            total = sum(per_task.values())
        elif balancer.needs == 'features':
            if self.architecture.shared_parameters():
                raise ValueError(
                    f'{type(balancer).__name__} balances gradients of the '
                    'shared features, which needs an architecture without '
                    f'shared parameters (got {type(self.architecture).__name__})')
            apply_feature_step(balancer, per_task, shared, trunk,
                               {t: self.task_parameters(t) for t in per_task},
                               optim_wrapper)
            total = sum(per_task.values())
        elif balancer.needs == 'samples':
            from mtlbox.balancers.sample.engine import apply_sample_step
            total = apply_sample_step(self, balancer, data, per_task,
                                      optim_wrapper)
        else:
            raise ValueError(f'balancer {type(balancer).__name__} has '
                             f'needs={balancer.needs!r}; expected losses, '
                             'grads, features or samples')
        balancer.after_train_iter(
            {t: v.detach() for t, v in per_task.items()})
        return self._log_vars(losses, per_task, total)

    def _check_finite(self, per_task):
        bad = [t for t, v in per_task.items() if not torch.isfinite(v)]
        if bad:
            raise FloatingPointError(
                f'non-finite loss for task(s) {bad}: '
                + ', '.join(f'{t}={per_task[t].item()}' for t in bad))

    def _log_vars(self, losses, per_task, total):
        log_vars = OrderedDict()
        log_vars['loss'] = total.detach()
        for key, value in losses.items():
            log_vars[key] = value.detach()
        for task, weight in self.balancer.task_weights.items():
            if task in per_task:
                log_vars[f'{task}.weight'] = torch.tensor(float(weight))
        return log_vars
