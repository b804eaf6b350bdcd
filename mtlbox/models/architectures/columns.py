"""Per-task trunks ("columns") for Cross-stitch and NDDR-CNN.

Both methods give every task its own copy of the backbone and mix the
columns after chosen stages. They are architectures that *own* the trunks:
the model's backbone is ``ImageInput`` (the image passes through) and the
architecture builds one column per task from a backbone config::

    backbone=dict(type='ImageInput'),
    architecture=dict(type='CrossStitch',
                      backbone=dict(type='ResNet', depth=18,
                                    out_indices=(1, 2, 3)),
                      neck=dict(type='FPN', in_channels=[128, 256, 512])),

Any :class:`~mtlbox.models.backbones.StagedBackbone` works as a column
(ResNet, EfficientNetV2, MobileNetV2/V3, SquadNet). An optional ``neck``
config is also copied per task and runs on that task's column outputs.
"""
import copy
from typing import Dict, List, Optional, Sequence

from torch import Tensor, nn

from mtlbox.registry import MODELS
from .base import BaseArchitecture


class ColumnArchitecture(BaseArchitecture):
    """Base of the column architectures: builds and runs the columns.

    Stage indices ``k`` count the column's ``stage_modules()``: ``0`` is the
    stem, ``k >= 1`` is backbone stage ``k - 1``. Mixing happens after the
    stages in ``mix_stages`` (default: every stage up to the last one that
    ``out_indices`` needs, excluding it, so the last stage of each column
    stays task-specific).

    Subclasses implement :meth:`mix` (list of T maps -> list of T maps) and
    :meth:`mixing_parameters` (``{stage: [params]}`` with a task key where a
    mixing parameter reaches only one task).
    """

    def __init__(self, backbone: dict, tasks: Sequence[str] = (),
                 neck: Optional[dict] = None,
                 mix_stages: Optional[Sequence[int]] = None):
        super().__init__(tasks)
        if not self.tasks:
            raise ValueError(f'{type(self).__name__} needs the task names '
                             '(MultiTaskModel sets them from heads)')
        self.columns = nn.ModuleDict()
        for task in self.tasks:
            column = MODELS.build(copy.deepcopy(backbone))
            if not hasattr(column, 'stage_modules'):
                raise TypeError(
                    f'{type(self).__name__} backbone type='
                    f"{backbone.get('type')!r} is not a StagedBackbone (no "
                    'stage_modules()); use ResNet, EfficientNetV2, '
                    'MobileNetV2/V3 or SquadNet')
            self.columns[task] = column
        first = self.columns[self.tasks[0]]
        self.last_stage = first.out_indices[-1] + 1
        if mix_stages is None:
            mix_stages = range(self.last_stage)
        self.mix_stages = tuple(sorted(set(mix_stages)))
        if any(not 0 <= k <= self.last_stage for k in self.mix_stages):
            raise ValueError(
                f'{type(self).__name__} mix_stages={mix_stages} must lie in '
                f'0..{self.last_stage} (0 = stem, k = backbone stage k-1, up '
                f'to the last stage in out_indices={first.out_indices})')
        self.stage_channels = first.stage_channels
        self.necks = None
        if neck is not None:
            self.necks = nn.ModuleDict(
                {t: MODELS.build(copy.deepcopy(neck)) for t in self.tasks})

    def mix(self, k: int, index: int, xs: List[Tensor]) -> List[Tensor]:
        raise NotImplementedError

    def forward(self, feats: List[Tensor],
                tasks: List[str]) -> Dict[str, List[Tensor]]:
        if len(feats) != 1 or feats[0].dim() != 4:
            raise ValueError(
                f'{type(self).__name__} builds its own per-task trunks and '
                f'expects the image as the only input map (got {len(feats)} '
                "maps); set the model's backbone=dict(type='ImageInput') and"
                ' neck=None (give the neck to the architecture instead)')
        stages = [self.columns[t].stage_modules() for t in self.tasks]
        out_indices = self.columns[self.tasks[0]].out_indices
        xs = [feats[0]] * len(self.tasks)
        outs = [[] for _ in self.tasks]
        mix_index = 0
        for k in range(self.last_stage + 1):
            xs = [column[k](x) for column, x in zip(stages, xs)]
            if k in self.mix_stages:
                xs = self.mix(k, mix_index, xs)
                mix_index += 1
            if k - 1 in out_indices:
                for out, x in zip(outs, xs):
                    out.append(x)
        result = {}
        for i, task in enumerate(self.tasks):
            if task not in tasks:
                continue
            levels = outs[i]
            if self.necks is not None:
                levels = list(self.necks[task](levels))
            result[task] = levels
        return result

    def _column_task_parameters(self, task: str) -> List[nn.Parameter]:
        """Column stages after the last mixing and the task's neck."""
        after = max(self.mix_stages, default=-1) + 1
        params = [
            p for m in self.columns[task].stage_modules()[after:]
            for p in m.parameters()
        ]
        if self.necks is not None:
            params += list(self.necks[task].parameters())
        return params
