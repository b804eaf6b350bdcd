"""Progressive layered extraction (PLE)."""
from typing import Dict, List, Sequence

from torch import Tensor, nn

from mtlbox.registry import MODELS
from .base import BaseArchitecture
from .moe_utils import ConvExpert, SoftmaxGate, combine, describe


class ExtractionLayer(nn.Module):
    """One PLE extraction network (a CGC layer).

    Task t's gate (input: task t's maps) mixes task t's experts and the
    shared experts; if ``shared_gate``, a shared gate (input: the shared
    maps) mixes all experts into the next layer's shared maps.
    """

    def __init__(self, in_channels, tasks, num_shared_experts,
                 num_task_experts, shared_gate):
        super().__init__()
        d = sum(in_channels)
        self.tasks = list(tasks)
        self.shared_experts = nn.ModuleList(
            ConvExpert(in_channels) for _ in range(num_shared_experts))
        self.task_experts = nn.ModuleDict({
            t: nn.ModuleList(
                ConvExpert(in_channels) for _ in range(num_task_experts))
            for t in self.tasks
        })
        self.task_gates = nn.ModuleDict({
            t: SoftmaxGate(d, num_task_experts + num_shared_experts)
            for t in self.tasks
        })
        self.shared_gate = SoftmaxGate(
            d, num_task_experts * len(self.tasks) +
            num_shared_experts) if shared_gate else None

    def forward(self, task_feats: Dict[str, List[Tensor]],
                shared_feats: List[Tensor], tasks: List[str]):
        shared_outs = [e(shared_feats) for e in self.shared_experts]
        task_outs, weights, result = {}, {}, {}
        for t in tasks:
            task_outs[t] = [e(task_feats[t]) for e in self.task_experts[t]]
            weights[t] = self.task_gates[t](describe(task_feats[t]))
            result[t] = combine(weights[t], task_outs[t] + shared_outs)
        shared = None
        if self.shared_gate is not None:
            every = [y for t in self.tasks for y in task_outs[t]]
            shared = combine(
                self.shared_gate(describe(shared_feats)), every + shared_outs)
        return result, shared, weights


@MODELS.register_module()
class PLE(BaseArchitecture):
    """Progressive Layered Extraction.

    Tang et al., "Progressive Layered Extraction (PLE): A Novel Multi-Task
    Learning (MTL) Model for Personalized Recommendations", RecSys 2020.

    ``num_layers`` extraction layers over the shared levels. Layer k has
    ``num_shared_experts`` shared experts and ``num_task_experts`` experts
    per task (per level ``3x3 conv -> BN -> ReLU``). Task t's gate
    ``softmax(W d(x_t))`` mixes [task t's experts, shared experts] into
    ``x_t`` of the next layer; every layer but the last also has a shared
    gate mixing all experts into the next shared input ``x_s``. Layer 0
    reads the trunk's maps for every input. ``last_gate_weights[task]``
    holds the last layer's gate weights.

    Sharing (by which losses reach a parameter): the last layer's task-t
    experts and gate, and task t's gate of the layer before, are
    task-specific; all other parameters reach every task through the
    shared gates and are shared.

    Args:
        in_channels: channels of the input levels.
        tasks: task names (set by the model).
        num_layers: extraction layers (1 = CGC).
        num_shared_experts, num_task_experts: experts per layer.
    """

    def __init__(self, in_channels: Sequence[int], tasks: Sequence[str] = (),
                 num_layers: int = 2, num_shared_experts: int = 2,
                 num_task_experts: int = 1):
        super().__init__(tasks)
        if num_layers < 1:
            raise ValueError(f'{type(self).__name__} num_layers={num_layers}'
                             ' must be >= 1')
        self.in_channels = list(in_channels)
        self.layers = nn.ModuleList(
            ExtractionLayer(in_channels, self.tasks, num_shared_experts,
                            num_task_experts, shared_gate=k < num_layers - 1)
            for k in range(num_layers))
        self.last_gate_weights = {}

    def forward(self, feats: List[Tensor],
                tasks: List[str]) -> Dict[str, List[Tensor]]:
        task_feats = {t: feats for t in self.tasks}
        shared = feats
        for k, layer in enumerate(self.layers):
            last = k == len(self.layers) - 1
            # intermediate layers need every task: the shared gate mixes all
            task_feats, shared, weights = layer(task_feats, shared,
                                                tasks if last else self.tasks)
        self.last_gate_weights = {t: w.detach() for t, w in weights.items()}
        return task_feats

    def task_parameters(self, task: str) -> List[nn.Parameter]:
        last = self.layers[-1]
        params = list(last.task_experts[task].parameters())
        params += list(last.task_gates[task].parameters())
        if len(self.layers) > 1:
            params += list(self.layers[-2].task_gates[task].parameters())
        return params
