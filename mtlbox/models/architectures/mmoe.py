"""Multi-gate mixture of experts."""
from typing import Dict, List, Sequence

from torch import Tensor, nn

from mtlbox.registry import MODELS
from .base import BaseArchitecture
from .moe_utils import ConvExpert, SoftmaxGate, combine, describe


@MODELS.register_module()
class MMoE(BaseArchitecture):
    """Shared experts, one softmax gate per task.

    Ma et al., "Modeling Task Relationships in Multi-task Learning with
    Multi-gate Mixture-of-Experts", KDD 2018.

    ``y_e = E_e(f)`` (per level ``3x3 conv -> BN -> ReLU``); task t gets
    ``sum_e w_{t,e}(f) y_e`` per level with ``w_t = softmax(W_t d(f))`` and
    ``d(f)`` the concatenated global averages of the levels
    (``[N, sum C_l]``). The gate weights of the last forward are in
    ``last_gate_weights[task]`` (``[N, E]``, rows sum to 1).

    Difference from LibMTL: there each expert is a whole encoder on the
    image; here the experts are light conv blocks over the shared trunk's
    levels (the trunk itself is shared, as in HPS).

    Sharing: experts shared; ``gates.<task>`` task-specific.

    Args:
        in_channels: channels of the input levels.
        tasks: task names (set by the model).
        num_experts: E.
    """

    def __init__(self, in_channels: Sequence[int], tasks: Sequence[str] = (),
                 num_experts: int = 4):
        super().__init__(tasks)
        self.in_channels = list(in_channels)
        self.experts = nn.ModuleList(
            ConvExpert(in_channels) for _ in range(num_experts))
        self.gates = nn.ModuleDict(
            {t: self.make_gate(sum(in_channels), num_experts)
             for t in self.tasks})
        self.last_gate_weights = {}

    def make_gate(self, in_features: int, num_experts: int) -> nn.Module:
        """One task's gate: ``[N, in_features] -> [N, E]`` weights."""
        return SoftmaxGate(in_features, num_experts)

    def forward(self, feats: List[Tensor],
                tasks: List[str]) -> Dict[str, List[Tensor]]:
        outs = [e(feats) for e in self.experts]
        d = describe(feats)
        result = {}
        for task in tasks:
            w = self.gates[task](d)
            self.last_gate_weights[task] = w.detach()
            result[task] = combine(w, outs)
        return result

    def task_parameters(self, task: str) -> List[nn.Parameter]:
        return list(self.gates[task].parameters())
