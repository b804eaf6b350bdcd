"""Customized gate control (CGC)."""
from typing import Sequence

from mtlbox.registry import MODELS
from .ple import PLE


@MODELS.register_module()
class CGC(PLE):
    """Customized Gate Control: PLE with a single extraction layer.

    Tang et al., RecSys 2020. Task t gets ``sum w_t [task t's experts,
    shared experts]`` with ``w_t = softmax(W_t d(f))``.

    Sharing: shared experts shared; task t's experts and gate task-specific.

    Args:
        in_channels, tasks, num_shared_experts, num_task_experts: as
            :class:`PLE`.
    """

    def __init__(self, in_channels: Sequence[int], tasks: Sequence[str] = (),
                 num_shared_experts: int = 2, num_task_experts: int = 1):
        super().__init__(in_channels, tasks, 1, num_shared_experts,
                         num_task_experts)
