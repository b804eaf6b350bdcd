"""DSelect-k: differentiable selection of k experts per task."""
import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .mmoe import MMoE


def smooth_step(t: Tensor, gamma: float) -> Tensor:
    """Cubic smooth step: 0 for ``t <= -gamma/2``, 1 for ``t >= gamma/2``,
    ``-2 t^3 / gamma^3 + 3 t / (2 gamma) + 1/2`` between."""
    inner = -2 * t**3 / gamma**3 + 3 * t / (2 * gamma) + 0.5
    return torch.where(t <= -gamma / 2, torch.zeros_like(t),
                       torch.where(t >= gamma / 2, torch.ones_like(t), inner))


class DSelectKGate(nn.Module):
    """Per-example DSelect-k gate: ``[N, D] -> [N, E]`` (rows sum to 1).

    With ``m = ceil(log2 E)`` binary digits, selector i has logits ``z_i =
    Z_i d`` (``m`` values); ``r_i[e] = prod_j (s(z_ij) if bit_j(e) else
    1 - s(z_ij))`` with the smooth step ``s``; the selectors are mixed by
    ``softmax(W d)``: ``w = sum_i softmax(W d)_i r_i``.

    ``r_i`` sums to 1 over the ``2^m`` codes. When E is not a power of two
    the codes ``E..2^m-1`` are folded onto experts ``0..2^m-E-1`` (code
    ``E + j`` also selects expert j), so the weights still sum to 1 (the
    paper assumes a power of two).
    """

    def __init__(self, in_features: int, num_experts: int, k: int,
                 gamma: float = 1.0):
        super().__init__()
        self.num_experts = num_experts
        self.k = k
        self.gamma = gamma
        self.num_bits = max(1, math.ceil(math.log2(num_experts)))
        self.z_logits = nn.Linear(in_features, k * self.num_bits)
        self.w_logits = nn.Linear(in_features, k)
        codes = torch.arange(2**self.num_bits)[:, None]
        bits = (codes >> torch.arange(self.num_bits)[None]) & 1
        self.register_buffer('bits', bits.float(), persistent=False)

    def forward(self, d: Tensor) -> Tensor:
        n = d.shape[0]
        s = smooth_step(
            self.z_logits(d).view(n, self.k, 1, self.num_bits), self.gamma)
        r = (self.bits * s + (1 - self.bits) * (1 - s)).prod(dim=-1)
        extra = r.shape[-1] - self.num_experts
        if extra:  # fold codes E..2^m-1 onto experts 0..extra-1
            r = torch.cat([r[..., :extra] + r[..., self.num_experts:],
                           r[..., extra:self.num_experts]], dim=-1)
        return torch.einsum('nk,nke->ne', F.softmax(self.w_logits(d), -1), r)


@MODELS.register_module()
class DSelectK(MMoE):
    """Shared experts with a DSelect-k gate per task.

    Hazimeh et al., "DSelect-k: Differentiable Selection in the Mixture of
    Experts with Applications to Multi-Task Learning", NeurIPS 2021.

    As :class:`MMoE`, with each task's softmax gate replaced by a
    :class:`DSelectKGate` that (once the smooth steps saturate) selects at
    most ``k`` experts. The entropy regulariser of the paper (which pushes
    the steps to saturate) is not added to the loss.

    Sharing: experts shared; ``gates.<task>`` task-specific.

    Args:
        in_channels: channels of the input levels.
        tasks: task names (set by the model).
        num_experts: E.
        k: experts selected per task.
        gamma: width of the smooth step.
    """

    def __init__(self, in_channels: Sequence[int], tasks: Sequence[str] = (),
                 num_experts: int = 4, k: int = 2, gamma: float = 1.0):
        self.k, self.gamma = k, gamma  # read by make_gate during init
        super().__init__(in_channels, tasks, num_experts)

    def make_gate(self, in_features: int, num_experts: int) -> nn.Module:
        return DSelectKGate(in_features, num_experts, self.k, self.gamma)
