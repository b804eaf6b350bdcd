"""How tasks share features: the interface of every sharing architecture."""
from typing import Dict, List

from torch import Tensor, nn


class BaseArchitecture(nn.Module):
    """Maps shared features to per-task features.

    ``forward(feats, tasks)`` takes the neck's (or backbone's) list of
    multi-level maps and returns ``{task: list of maps}`` for the requested
    tasks. Hard parameter sharing passes them through; MTAN, Cross-stitch,
    SquadNet and the MoE family produce task-specific features.

    Parameter split used by gradient-level balancers:
    :meth:`shared_parameters` (shared by all tasks) and
    :meth:`task_parameters(task)` (reached only by that task's loss).

    Args:
        tasks: task names, set by :class:`~mtlbox.models.MultiTaskModel`.
    """

    def __init__(self, tasks: List[str] = ()):
        super().__init__()
        self.tasks = list(tasks)

    def forward(self, feats: List[Tensor],
                tasks: List[str]) -> Dict[str, List[Tensor]]:
        raise NotImplementedError

    def task_parameters(self, task: str) -> List[nn.Parameter]:
        return []

    def init_weights(self):
        """Run ``init_weights`` of the outermost descendants that have one.

        mmengine's ``BaseModule.init_weights`` does not recurse into a plain
        ``nn.Module`` such as this one; without this method a column's
        ``init_cfg=dict(type='Pretrained', ...)`` would be silently ignored.
        """

        def visit(module):
            for child in module.children():
                if hasattr(child, 'init_weights'):
                    child.init_weights()
                else:
                    visit(child)

        visit(self)

    def shared_parameters(self) -> List[nn.Parameter]:
        specific = {id(p) for t in self.tasks for p in self.task_parameters(t)}
        return [p for p in self.parameters() if id(p) not in specific]
