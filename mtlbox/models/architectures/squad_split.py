"""Hand each task its SquadNet channel groups."""
from typing import Dict, List, Optional, Sequence

import torch
from torch import Tensor

from mtlbox.registry import MODELS
from .base import BaseArchitecture


@MODELS.register_module()
class SquadSplit(BaseArchitecture):
    """SquadNet's wiring: task t reads ``[group t, shared groups]``.

    Chen & Er, "Mitigating gradient conflicts via expert squads in
    multi-task learning", Neurocomputing 2025.

    Every input map ``[N, G*C_l, H, W]`` (``G = T + S``, from the
    :class:`~mtlbox.models.backbones.SquadNet` backbone) is cut into G equal
    channel groups; task t (its position in ``group_order``, by default the
    order of the heads) receives ``cat(group_t, group_T, .., group_{G-1})``:
    ``[N, (1 + S) * C_l, H, W]`` per level. Configure the heads with
    ``in_channels=(1 + S) * C_l``.

    Design: SquadNet is a backbone (the experts live there) and this
    parameter-free architecture does the split, so the model stays
    ``backbone -> architecture -> heads``. Because every SquadNet block
    aggregates all groups point-wise, each expert reaches every task's loss:
    the whole backbone is shared for gradient-level balancers, and this
    architecture has no parameters (``task_parameters`` is empty).

    Args:
        num_shared: S, the number of shared groups (as in the backbone).
        tasks: task names (set by the model).
        group_order: task names in group order (default: ``tasks``).
    """

    def __init__(self, num_shared: int, tasks: Sequence[str] = (),
                 group_order: Optional[Sequence[str]] = None):
        super().__init__(tasks)
        self.num_shared = num_shared
        self.group_order = list(group_order or self.tasks)
        if sorted(self.group_order) != sorted(self.tasks):
            raise ValueError(f'SquadSplit group_order={self.group_order} must'
                             f' list exactly the tasks {self.tasks}')

    def forward(self, feats: List[Tensor],
                tasks: List[str]) -> Dict[str, List[Tensor]]:
        num_tasks = len(self.group_order)
        groups = num_tasks + self.num_shared
        split = []
        for f in feats:
            if f.shape[1] % groups:
                raise ValueError(
                    f'SquadSplit: a map of {f.shape[1]} channels cannot be '
                    f'cut into {num_tasks} task + {self.num_shared} shared '
                    'groups; set SquadNet num_tasks to the number of heads '
                    'and num_shared equal in backbone and architecture')
            split.append(torch.chunk(f, groups, dim=1))
        out = {}
        for task in tasks:
            t = self.group_order.index(task)
            out[task] = [
                torch.cat((g[t], ) + g[num_tasks:], dim=1) for g in split
            ]
        return out
