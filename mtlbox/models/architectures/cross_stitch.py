"""Cross-stitch networks."""
from typing import List, Optional, Sequence

import torch
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .columns import ColumnArchitecture


@MODELS.register_module()
class CrossStitch(ColumnArchitecture):
    """Cross-stitch units between per-task columns.

    Misra et al., "Cross-stitch Networks for Multi-task Learning", CVPR 2016.

    One column (copy of ``backbone``) per task; after every stage ``k`` in
    ``mix_stages`` the T column outputs are linearly recombined:

        ``x'_t = sum_s alpha_k[t, s] * x_s``  (``alpha_k``: ``[T, T]``,
        or ``[T, T, C_k]`` per channel with ``channel_wise=True``)

    initialised to ``alpha_self`` on the diagonal and ``alpha_other`` off it
    (0.8 / 0.05 as in the MTL reproductions; the paper tunes e.g. 0.9/0.1).
    Task t reads its column's maps at ``out_indices`` (after mixing where
    that stage mixes), then its own copy of ``neck`` if given.

    The model's backbone must be ``ImageInput`` (see
    :mod:`mtlbox.models.architectures.columns`).

    Parameters and learning rate: the alphas are ``stitch_alphas.{i}``. The
    paper trains them with a 100x learning rate; with mmengine::

        optim_wrapper=dict(paramwise_cfg=dict(
            custom_keys={'stitch_alphas': dict(lr_mult=100, decay_mult=0)}))

    Sharing: a column's stages up to the last mixing reach every task
    through the units, so they and the alphas are shared; the stages after
    the last mixing and the task's neck are task-specific. With the default
    ``mix_stages`` (all but the last needed stage) the last stage of each
    column is task-specific.

    Args:
        backbone: config of one column (a StagedBackbone).
        tasks: task names (set by the model).
        neck: optional per-task neck config.
        mix_stages: stage indices (0 = stem) followed by a unit.
        alpha_self, alpha_other: initial values.
        channel_wise: one alpha per channel instead of per column pair.
    """

    def __init__(self, backbone: dict, tasks: Sequence[str] = (),
                 neck: Optional[dict] = None,
                 mix_stages: Optional[Sequence[int]] = None,
                 alpha_self: float = 0.8, alpha_other: float = 0.05,
                 channel_wise: bool = False):
        super().__init__(backbone, tasks, neck, mix_stages)
        num = len(self.tasks)
        self.stitch_alphas = nn.ParameterList()
        for k in self.mix_stages:
            alpha = torch.full((num, num), float(alpha_other))
            alpha.fill_diagonal_(float(alpha_self))
            if channel_wise:
                alpha = alpha[:, :, None].repeat(1, 1, self.stage_channels[k])
            self.stitch_alphas.append(nn.Parameter(alpha))

    def mix(self, k: int, index: int, xs: List[Tensor]) -> List[Tensor]:
        alpha = self.stitch_alphas[index]
        stacked = torch.stack(xs)  # [T, N, C, H, W]
        if alpha.dim() == 2:
            mixed = torch.einsum('ts,snchw->tnchw', alpha, stacked)
        else:
            mixed = torch.einsum('tsc,snchw->tnchw', alpha, stacked)
        return list(mixed.unbind(0))

    def task_parameters(self, task: str) -> List[nn.Parameter]:
        return self._column_task_parameters(task)
