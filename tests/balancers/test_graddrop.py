import pytest
import torch

from mtlbox.balancers import graddrop
from mtlbox.registry import BALANCERS
from tests.balancers.conftest import aggregate


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
    d = aggregate(bal, G, torch.ones(2))
    assert set(d.unique().tolist()) == {3.0, -1.0}
    assert (d == 3.0).float().mean().item() == pytest.approx(0.75, abs=0.03)


def test_leak_and_roundtrip(roundtrip):
    G = torch.tensor([[3.0], [-1.0]])
    # leak 0.5 at U=0.8 (negatives kept): 0.5*3 + 1*(-1)
    assert graddrop(G, torch.tensor([0.8]), leak=0.5).tolist() == [0.5]
    G = torch.randn(3, 50)
    roundtrip(dict(type='GradDrop', tasks=['a', 'b', 'c']),
              lambda b, k: aggregate(b, G, torch.ones(3)))


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


def test_compiled_kernel_equals_eager_blocks():
    """The fused torch.compile kernel (used by compile='auto' on large CPU
    G) gives the blocked eager result, for 3 and 2 present tasks."""
    from mtlbox.balancers.gradient.graddrop import (bits_to_uniform,
                                                     compiled_graddrop,
                                                     uniform_bits)
    g = torch.Generator().manual_seed(1)
    for rows in (3, 2):
        G = torch.randn(rows, 5000, generator=g)
        bits = uniform_bits(5000, 'cpu', g)
        u = bits_to_uniform(bits)
        for leak in (0.0, 0.25):
            torch.testing.assert_close(compiled_graddrop()(G, u, leak),
                                       graddrop(G, u, leak, chunk=1024))
    bal = BALANCERS.build(dict(type='GradDrop', tasks=['a', 'b'],
                               compile=True))
    eager = BALANCERS.build(dict(type='GradDrop', tasks=['a', 'b'],
                                 compile=False))
    G = torch.randn(2, 3000, generator=g)
    assert torch.equal(aggregate(bal, G, torch.ones(2)),
                       aggregate(eager, G, torch.ones(2)))
    with pytest.raises(ValueError, match='compile'):
        BALANCERS.build(dict(type='GradDrop', tasks=['a'], compile='yes'))


def test_16_bit_uniform_draws():
    """Every 16-bit lane of the 64-bit draws is uniform: the 65536 bin
    centres have mean 1/2 and variance (1 - 2**-32) / 12."""
    from mtlbox.balancers.gradient.graddrop import (bits_to_uniform,
                                                     uniform_bits)
    g = torch.Generator().manual_seed(0)
    bits = uniform_bits(400_001, 'cpu', g)
    assert bits.shape == (400_001, ) and bits.dtype == torch.int16
    u = bits_to_uniform(bits.double())
    assert 0 < u.min() and u.max() < 1
    for lane in range(4):  # no lane of the 64-bit word is biased
        x = u[lane::4]
        assert x.mean().item() == pytest.approx(0.5, abs=0.005)
        assert x.var().item() == pytest.approx(1 / 12, abs=0.002)
