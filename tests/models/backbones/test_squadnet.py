"""SquadNet / NoSquadNet: groups, shapes, blocks, expert isolation."""
import pytest
import torch
from torch import nn

from mtlbox.models.backbones import NoSquadNet, SquadNet
from mtlbox.models.backbones.squadnet import (ExpertSquadBlock, NoSquadBlock,
                                              channel_shuffle)


def test_channel_shuffle_by_hand():
    x = torch.arange(6.).view(1, 6, 1, 1)  # groups [0 1 | 2 3 | 4 5]
    out = channel_shuffle(x, 3).flatten().tolist()
    assert out == [0, 2, 4, 1, 3, 5]


@pytest.mark.parametrize('cls', [SquadNet, NoSquadNet])
def test_shapes_strides_channels(cls):
    # T=2, S=2, C=4 -> G*C = 16 at stride 2, 32 at 4, 64 at 8
    model = cls(num_tasks=2, num_shared=2, channels=4, depths=(1, 1, 1),
                out_indices=(0, 1, 2)).eval()
    assert model.out_channels == [16, 32, 64]
    assert model.group_channels == [4, 8, 16]
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 33, 31))
    assert [tuple(o.shape) for o in outs] == [(1, 16, 17, 16), (1, 32, 9, 8),
                                              (1, 64, 5, 4)]


def test_depths_and_experts_per_block():
    model = SquadNet(num_tasks=3, num_shared=1, channels=4, depths=(2, 1, 3))
    blocks = [m for m in model.modules() if isinstance(m, ExpertSquadBlock)]
    assert len(blocks) == 6
    assert all(len(b.experts) == 3 for b in blocks)
    # expert: 1x1 (C^2) + DW 3x3 (9C) + 1x1 (C^2) + 3 BN (2C each)
    c = 4
    assert sum(p.numel() for p in blocks[0].experts[0].parameters()) == (
        2 * c * c + 9 * c + 3 * 2 * c)
    # expert_parameters: one expert per block, per task
    assert len(model.expert_parameters(1)) == 6 * len(
        list(blocks[0].experts[1].parameters()))
    with pytest.raises(IndexError):
        model.expert_parameters(3)


def test_expert_sees_only_its_group():
    """Expert t of a block reads channel group t only: perturbing any other
    group leaves its output unchanged."""
    torch.manual_seed(0)
    block = ExpertSquadBlock(channels=4, num_tasks=2, num_shared=2).eval()
    x = torch.randn(2, 16, 5, 5)
    captured = []
    hook = block.experts[0].register_forward_hook(
        lambda m, i, o: captured.append(o))
    block(x)
    y = x.clone()
    y[:, 4:] += torch.randn(2, 12, 5, 5)  # groups 1, 2, 3
    block(y)
    hook.remove()
    torch.testing.assert_close(captured[0], captured[1])
    z = x.clone()
    z[:, :4] += 1  # its own group
    assert not torch.allclose(block.experts[0](z[:, :4]), captured[0])


def _zero_aggregation(block):
    bn = block.aggregation[-2]
    nn.init.zeros_(bn.weight)
    nn.init.zeros_(bn.bias)


def test_residual_and_no_residual():
    """With the aggregation's output zeroed (last BN weight = bias = 0, and
    GELU(0) = 0), SquadNet's block is the identity (residual) while the
    NoSquadNet block outputs zeros (no residual)."""
    x = torch.randn(2, 16, 5, 5)
    squad = ExpertSquadBlock(4, 2, 2).eval()
    nosquad = NoSquadBlock(4, 2, 2).eval()
    _zero_aggregation(squad)
    _zero_aggregation(nosquad)
    torch.testing.assert_close(squad(x), x)
    torch.testing.assert_close(nosquad(x), torch.zeros_like(x))


def test_every_parameter_reaches_every_group():
    """The point-wise aggregation mixes all groups, so the loss on any one
    output group reaches every task's experts (why SquadNet is a shared
    backbone for gradient-level balancers)."""
    torch.manual_seed(0)
    model = SquadNet(num_tasks=2, num_shared=1, channels=2, depths=(1, 1, 1))
    out = model(torch.randn(2, 3, 16, 16))[0]
    group0 = out[:, :8]  # task 0's own group at level 2 (C_2 = 8)
    (group0 * torch.randn_like(group0)).sum().backward()
    grads = [p.grad for p in model.expert_parameters(1)]
    assert all(g is not None for g in grads)
    assert sum(g.abs().sum() for g in grads) > 0


def test_bad_groups():
    with pytest.raises(ValueError, match='num_tasks=0'):
        SquadNet(num_tasks=0)
    with pytest.raises(ValueError, match='shuffle'):
        SquadNet(depths=(1, 1, 1), shuffle=[True, False])
