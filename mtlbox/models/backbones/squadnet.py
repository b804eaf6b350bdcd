"""SquadNet: expert squads for multi-task learning, and its NoSquadNet
ablation.

Chen & Er, "Mitigating gradient conflicts via expert squads in multi-task
learning", Neurocomputing 614, 2025.
"""
from typing import List, Sequence

import torch
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .base_backbone import StagedBackbone


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    """ShuffleNet channel shuffle: ``[g0c0, g0c1, .., g1c0, ..]`` ->
    ``[g0c0, g1c0, .., g0c1, g1c1, ..]`` for ``groups`` groups."""
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(
        n, c, h, w)


def _bn(c):
    return nn.BatchNorm2d(c)


class SquadExpert(nn.Sequential):
    """One task's expert on its C-channel group:
    ``1x1 -> BN -> GELU -> DW 3x3 -> BN -> 1x1 -> BN -> GELU``
    (``[N, C, H, W] -> [N, C, H, W]``)."""

    def __init__(self, channels: int):
        super().__init__(
            nn.Conv2d(channels, channels, 1, bias=False), _bn(channels),
            nn.GELU(),
            nn.Conv2d(channels, channels, 3, padding=1, groups=channels,
                      bias=False), _bn(channels),
            nn.Conv2d(channels, channels, 1, bias=False), _bn(channels),
            nn.GELU())


class PointwiseAggregation(nn.Sequential):
    """Point-wise aggregation over all channels:
    ``1x1 -> BN -> GELU -> DW 3x3 -> BN -> 1x1 -> BN -> GELU``
    (``[N, C_in, H, W] -> [N, C_out, H, W]``, hidden width ``C_in * ratio``).
    """

    def __init__(self, in_channels: int, out_channels: int = None,
                 ratio: float = 1.0):
        out_channels = out_channels or in_channels
        hidden = int(in_channels * ratio)
        super().__init__(
            nn.Conv2d(in_channels, hidden, 1, bias=False), _bn(hidden),
            nn.GELU(),
            nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden,
                      bias=False), _bn(hidden),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            _bn(out_channels), nn.GELU())


class ExpertSquadBlock(nn.Module):
    """``x -> split into G = T + S groups of C channels -> task group t
    through expert t, shared groups unchanged -> concat -> (channel shuffle
    over G groups) -> point-wise aggregation -> + x``.

    Shapes: ``[N, G*C, H, W] -> [N, G*C, H, W]``.
    """

    def __init__(self, channels: int, num_tasks: int, num_shared: int,
                 shuffle: bool = True, ratio: float = 1.0):
        super().__init__()
        self.channels = channels
        self.num_tasks = num_tasks
        self.num_groups = num_tasks + num_shared
        self.shuffle = shuffle
        self.experts = nn.ModuleList(
            SquadExpert(channels) for _ in range(num_tasks))
        self.aggregation = PointwiseAggregation(
            channels * self.num_groups, ratio=ratio)

    def forward(self, x: Tensor) -> Tensor:
        groups = torch.split(x, self.channels, dim=1)
        out = [expert(g) for expert, g in zip(self.experts, groups)]
        out = torch.cat(out + list(groups[self.num_tasks:]), dim=1)
        if self.shuffle:
            out = channel_shuffle(out, self.num_groups)
        return x + self.aggregation(out)


class NoSquadBlock(nn.Module):
    """NoSquadNet ablation block: one expert-shaped block over all G*C
    channels (no groups), shuffle, aggregation, and no residual."""

    def __init__(self, channels: int, num_tasks: int, num_shared: int,
                 shuffle: bool = True, ratio: float = 1.0):
        super().__init__()
        self.num_groups = num_tasks + num_shared
        self.shuffle = shuffle
        self.block = SquadExpert(channels * self.num_groups)
        self.aggregation = PointwiseAggregation(
            channels * self.num_groups, ratio=ratio)

    def forward(self, x: Tensor) -> Tensor:
        out = self.block(x)
        if self.shuffle:
            out = channel_shuffle(out, self.num_groups)
        return self.aggregation(out)


class SquadDownsample(nn.Module):
    """ShuffleNet-V2 style downsampling, channels doubled:
    branch 1 ``DW 3x3/2 -> BN -> 1x1 -> BN -> GELU``, branch 2 ``1x1 -> BN ->
    GELU -> DW 3x3/2 -> BN -> 1x1 -> BN -> GELU``, concat (2 G C channels),
    channel shuffle over 2G groups, point-wise aggregation.

    Shapes: ``[N, G*C, H, W] -> [N, 2*G*C, ceil(H/2), ceil(W/2)]``.
    """

    def __init__(self, channels: int, num_groups: int, shuffle: bool = True):
        super().__init__()
        c = channels * num_groups
        self.num_groups = num_groups
        self.shuffle = shuffle
        self.branch1 = nn.Sequential(
            nn.Conv2d(c, c, 3, 2, 1, groups=c, bias=False), _bn(c),
            nn.Conv2d(c, c, 1, bias=False), _bn(c), nn.GELU())
        self.branch2 = nn.Sequential(
            nn.Conv2d(c, c, 1, bias=False), _bn(c), nn.GELU(),
            nn.Conv2d(c, c, 3, 2, 1, groups=c, bias=False), _bn(c),
            nn.Conv2d(c, c, 1, bias=False), _bn(c), nn.GELU())
        self.aggregation = PointwiseAggregation(2 * c)

    def forward(self, x: Tensor) -> Tensor:
        out = torch.cat([self.branch1(x), self.branch2(x)], dim=1)
        if self.shuffle:
            out = channel_shuffle(out, 2 * self.num_groups)
        return self.aggregation(out)


@MODELS.register_module()
class SquadNet(StagedBackbone):
    """SquadNet backbone: channels split into ``G = T + S`` groups.

    Structure (``C = channels``, ``G = num_tasks + num_shared``):

    - stem: conv 3x3/2 -> BN -> GELU (3 -> G*C), then a depthwise-separable
      3x3 (DW -> BN -> GELU -> 1x1 -> BN -> GELU); stride 2;
    - level i (i = 0, 1, 2): ``depths[i]`` :class:`ExpertSquadBlock` at
      width ``C * 2**i`` per group, stride ``2 * 2**i``; between levels a
      :class:`SquadDownsample` doubles the width and halves the size. The
      output of level i (before the next downsampling) is stage i.

    Output (default ``out_indices=(2,)``, as the paper): ``[N, G*C*4, H/8,
    W/8]``. Channel group ``g`` of every output is ``[g*C_i, (g+1)*C_i)``:
    groups ``0..T-1`` belong to the tasks (in the order of the heads), the
    last S groups are shared. The :class:`~mtlbox.models.architectures.
    SquadSplit` architecture hands task t ``[group t, shared groups]``.

    Parameter sharing: the point-wise aggregation of every block mixes all
    groups (and the downsampling mixes everything), so every parameter,
    experts included, reaches every task's loss; SquadNet is a shared
    backbone in the gradient sense. :meth:`expert_parameters` lists one
    task's experts (for analysis, e.g. gradient-conflict logging).

    Configs of the paper: PASCAL-Context T=4, S=2; NYUD-v2 T=2, S=2;
    ``depths=(8, 8, 8)`` base, ``(4, 4, 4)`` small; C = 32.

    Args:
        num_tasks: T (task groups).
        num_shared: S (shared groups).
        channels: C, per-group width of level 0.
        depths: blocks per level.
        shuffle: channel shuffle per level (bool or one per level).
        ratio: hidden-width ratio of the point-wise aggregation.
        out_indices: levels to return.
        with_cp: activation checkpointing of the stem and of every block
            (the experts, aggregation and downsampling of each): less
            memory, one more forward pass; loss and gradients unchanged.
        frozen_stages, norm_eval, init_cfg: see :class:`StagedBackbone`.
    """

    block_type = ExpertSquadBlock

    def __init__(self,
                 num_tasks: int = 2,
                 num_shared: int = 2,
                 channels: int = 32,
                 depths: Sequence[int] = (8, 8, 8),
                 shuffle=True,
                 ratio: float = 1.0,
                 out_indices: Sequence[int] = (2, ),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if num_tasks < 1 or num_shared < 0:
            raise ValueError(f'{type(self).__name__} num_tasks={num_tasks}, '
                             f'num_shared={num_shared}: need num_tasks >= 1 '
                             'and num_shared >= 0')
        if isinstance(shuffle, bool):
            shuffle = [shuffle] * len(depths)
        if len(shuffle) != len(depths):
            raise ValueError(f'{type(self).__name__} shuffle={shuffle} needs '
                             f'one flag per level ({len(depths)})')
        self.num_tasks = num_tasks
        self.num_shared = num_shared
        self.num_groups = g = num_tasks + num_shared
        self.channels = channels
        c = channels * g
        self.stem = nn.Sequential(
            nn.Conv2d(3, c, 3, 2, 1, bias=False), _bn(c), nn.GELU(),
            nn.Conv2d(c, c, 3, 1, 1, groups=c, bias=False), _bn(c),
            nn.GELU(), nn.Conv2d(c, c, 1, bias=False), _bn(c), nn.GELU())
        last = self._check_out_indices(out_indices, len(depths))[-1]
        depths = tuple(depths)[:last + 1]
        self.levels = nn.ModuleList()
        for i, depth in enumerate(depths):
            width = channels * 2**i
            blocks = [] if i == 0 else [
                SquadDownsample(width // 2, g, shuffle[i - 1])]
            blocks += [
                self.block_type(width, num_tasks, num_shared, shuffle[i],
                                ratio) for _ in range(depth)
            ]
            self.levels.append(nn.Sequential(*blocks))
        self.stage_channels = [c] + [c * 2**i for i in range(len(depths))]
        self.group_channels = [channels * 2**i for i in range(len(depths))]
        self._setup(out_indices, frozen_stages, norm_eval, with_cp)

    def stage_modules(self) -> List[nn.Module]:
        return [self.stem] + list(self.levels)

    def expert_parameters(self, task_index: int) -> List[nn.Parameter]:
        """Parameters of the experts of task group ``task_index``."""
        if not 0 <= task_index < self.num_tasks:
            raise IndexError(f'task_index={task_index} outside 0..'
                             f'{self.num_tasks - 1}')
        return [p for m in self.modules() if isinstance(m, ExpertSquadBlock)
                for p in m.experts[task_index].parameters()]


@MODELS.register_module()
class NoSquadNet(SquadNet):
    """NoSquadNet ablation of SquadNet: the same stem, widths, downsampling
    and aggregation, but each block runs one expert-shaped block over all
    ``G*C`` channels (no task groups) and has no residual connection."""

    block_type = NoSquadBlock

    def expert_parameters(self, task_index):
        raise NotImplementedError('NoSquadNet has no per-task experts')
