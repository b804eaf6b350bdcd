import pytest
import torch

from mtlbox.balancers import graddrop
from mtlbox.registry import BALANCERS


def test_consistent_signs_kept():
    G = torch.tensor([[1.0, -2.0], [3.0, -1.0]])
    for u in (0.01, 0.5, 0.99):
        assert graddrop(G, torch.full((2,), u)).tolist() == [4.0, -3.0]


def test_conflict_keeps_sign_with_purity_probability():
    # coordinate with g = (3, -1): P = (1 + 2/4)/2 = 0.75
    G = torch.tensor([[3.0], [-1.0]])
    assert graddrop(G, torch.tensor([0.7])).tolist() == [3.0]
    assert graddrop(G, torch.tensor([0.8])).tolist() == [-1.0]
    bal = BALANCERS.build(dict(type='GradDrop', tasks=['a', 'b']))
    G = torch.tensor([[3.0] * 4000, [-1.0] * 4000])
    d = bal.aggregate(G, torch.ones(2))
    assert set(d.unique().tolist()) == {3.0, -1.0}
    assert (d == 3.0).float().mean().item() == pytest.approx(0.75, abs=0.03)


def test_leak_and_roundtrip(roundtrip):
    G = torch.tensor([[3.0], [-1.0]])
    # leak 0.5 at U=0.8 (negatives kept): 0.5*3 + 1*(-1)
    assert graddrop(G, torch.tensor([0.8]), leak=0.5).tolist() == [0.5]
    G = torch.randn(3, 50)
    roundtrip(dict(type='GradDrop', tasks=['a', 'b', 'c']),
              lambda b, k: b.aggregate(G, torch.ones(3)))


def test_blocks_do_not_change_the_result():
    """Blocked evaluation (a block size that does not divide P) equals one
    pass over the whole vector, with and without leak."""
    g = torch.Generator().manual_seed(0)
    G = torch.randn(3, 10, generator=g)
    u = torch.rand(10, generator=g)
    for leak in (0.0, 0.3):
        whole = graddrop(G, u, leak, chunk=10)
        assert torch.equal(graddrop(G, u, leak, chunk=3), whole)
        pos, neg = G.clamp_min(0).sum(0), G.clamp_max(0).sum(0)
        purity = (1 + G.sum(0) / G.abs().sum(0)) / 2
        picked = torch.where(purity > u, pos, neg)
        assert torch.allclose(whole, leak * (pos + neg) +
                              (1 - leak) * picked)
