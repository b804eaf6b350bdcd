"""MTAN masks and the SquadNet split."""
import pytest
import torch
from torch import nn

from mtlbox.models.architectures import MTAN, SquadSplit


def test_mtan_shapes_and_mask_range():
    torch.manual_seed(0)
    arch = MTAN([4, 8, 16], tasks=['a', 'b']).eval()
    feats = [torch.randn(2, 4, 17, 13), torch.randn(2, 8, 9, 7),
             torch.randn(2, 16, 5, 4)]
    with torch.no_grad():
        out = arch(feats, ['a', 'b'])
    for task in ('a', 'b'):
        assert [o.shape for o in out[task]] == [f.shape for f in feats]
        for o, f in zip(out[task], feats):  # a = m * f with m in (0, 1)
            assert torch.all(o.abs() <= f.abs())
            assert torch.all(torch.sign(o) * torch.sign(f) >= 0)
    assert not torch.allclose(out['a'][2], out['b'][2])
    # level l > 0 reads [f_l ; pooled transition of level l-1] (2 C_l)
    assert arch.attention['a'][1][0].in_channels == 16
    assert arch.transitions[0][0].in_channels == 4
    assert arch.transitions[0][0].out_channels == 8


def test_mtan_saturated_mask_passes_features():
    arch = MTAN([4, 8], tasks=['a']).eval()
    for att in arch.attention['a']:
        nn.init.zeros_(att[-2].weight)
        nn.init.constant_(att[-2].bias, 30.0)  # sigmoid(30) = 1
    feats = [torch.randn(1, 4, 8, 8), torch.randn(1, 8, 4, 4)]
    with torch.no_grad():
        out = arch(feats, ['a'])
    for o, f in zip(out['a'], feats):
        torch.testing.assert_close(o, f)


def test_squad_split_hands_each_task_its_groups():
    """T=3 task groups + S=2 shared groups of C=2 channels; channel i holds
    the value i, so the channels each task receives are visible."""
    arch = SquadSplit(num_shared=2, tasks=['a', 'b', 'c'])
    x = torch.arange(10.).view(1, 10, 1, 1).repeat(2, 1, 3, 3)
    out = arch([x, x], ['a', 'b', 'c'])
    got = {t: out[t][0][0, :, 0, 0].tolist() for t in out}
    assert got == {'a': [0, 1, 6, 7, 8, 9], 'b': [2, 3, 6, 7, 8, 9],
                   'c': [4, 5, 6, 7, 8, 9]}
    order = SquadSplit(num_shared=2, tasks=['a', 'b', 'c'],
                       group_order=['c', 'a', 'b'])
    assert order([x], ['c'])['c'][0][0, :, 0, 0].tolist() == [0, 1, 6, 7,
                                                              8, 9]
    with pytest.raises(ValueError, match='num_shared'):
        arch([torch.randn(1, 11, 2, 2)], ['a'])
    with pytest.raises(ValueError, match='group_order'):
        SquadSplit(num_shared=1, tasks=['a', 'b'], group_order=['a'])
