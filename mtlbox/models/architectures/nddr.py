"""NDDR-CNN: neural discriminative dimensionality reduction layers."""
from typing import List, Optional, Sequence

import torch
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .columns import ColumnArchitecture


@MODELS.register_module()
class NDDR(ColumnArchitecture):
    """NDDR layers between per-task columns.

    Gao et al., "NDDR-CNN: Layerwise Feature Fusing in Multi-Task CNNs by
    Neural Discriminative Dimensionality Reduction", CVPR 2019.

    One column (copy of ``backbone``) per task; after every stage ``k`` in
    ``mix_stages`` the T outputs (``C_k`` channels each) are concatenated
    and each task gets ``ReLU(BN(W_t [x_1; ..; x_T]))`` with a 1x1 conv
    ``W_t``: ``[N, T*C_k, H, W] -> [N, C_k, H, W]``. ``W_t`` is initialised
    to identity blocks: ``init_self * I`` on task t's own block and
    ``init_other * I`` on the others (0.8 / 0.05); BN momentum 0.05 (the
    TF decay 0.95 of the paper).

    The model's backbone must be ``ImageInput`` (see
    :mod:`mtlbox.models.architectures.columns`). The NDDR layers are named
    ``nddr_layers.*``; a learning-rate multiplier is set with
    ``paramwise_cfg=dict(custom_keys={'nddr_layers': dict(lr_mult=...)})``
    (the paper uses a larger rate for them).

    Sharing: column stages up to the last NDDR stage and all NDDR layers
    but the last are shared; task t's NDDR layer of the last mixing stage,
    its column stages after it and its neck are task-specific.

    Args:
        backbone, tasks, neck, mix_stages: as :class:`CrossStitch`.
        init_self, init_other: identity-block initialisation.
        bn_momentum: momentum of the NDDR BatchNorms.
    """

    def __init__(self, backbone: dict, tasks: Sequence[str] = (),
                 neck: Optional[dict] = None,
                 mix_stages: Optional[Sequence[int]] = None,
                 init_self: float = 0.8, init_other: float = 0.05,
                 bn_momentum: float = 0.05):
        super().__init__(backbone, tasks, neck, mix_stages)
        num = len(self.tasks)
        self.nddr_layers = nn.ModuleList()
        for k in self.mix_stages:
            c = self.stage_channels[k]
            per_task = nn.ModuleList()
            for t in range(num):
                conv = nn.Conv2d(num * c, c, 1, bias=False)
                weight = torch.cat([
                    torch.eye(c) * (init_self if s == t else init_other)
                    for s in range(num)
                ], dim=1)
                with torch.no_grad():
                    conv.weight.copy_(weight[:, :, None, None])
                per_task.append(
                    nn.Sequential(conv, nn.BatchNorm2d(c,
                                                       momentum=bn_momentum),
                                  nn.ReLU(inplace=True)))
            self.nddr_layers.append(per_task)

    def mix(self, k: int, index: int, xs: List[Tensor]) -> List[Tensor]:
        cat = torch.cat(xs, dim=1)
        return [layer(cat) for layer in self.nddr_layers[index]]

    def task_parameters(self, task: str) -> List[nn.Parameter]:
        params = self._column_task_parameters(task)
        if self.mix_stages:
            index = self.tasks.index(task)
            params += list(self.nddr_layers[-1][index].parameters())
        return params
