import pytest
import torch

from mtlbox.balancers import aligned_weights
from mtlbox.registry import BALANCERS
from tests.balancers.conftest import aggregate


def test_orthogonal_unequal_norms():
    # M = diag(4, 1): B = 1 * diag(1/2, 1) -> a = (1/2, 1); aligned rows
    # (1, 0), (0, 1) have the smallest singular value (1) as norm
    G = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    bal = BALANCERS.build(dict(type='Aligned-MTL', tasks=['a', 'b']))
    assert aggregate(bal, G, torch.ones(2)).tolist() == pytest.approx(
        [1.0, 1.0])


def test_aligned_rows_orthonormal_times_sigma_min():
    torch.manual_seed(2)
    G = torch.randn(3, 6, dtype=torch.float64)
    M = G @ G.T
    lam, V = torch.linalg.eigh(M)
    B = lam.min().sqrt() * V @ torch.diag(lam.rsqrt()) @ V.T
    aligned = B @ G
    assert torch.allclose(aligned @ aligned.T,
                          lam.min() * torch.eye(3, dtype=torch.float64),
                          atol=1e-9)
    assert aligned_weights(M).tolist() == pytest.approx(B.sum(1).tolist())


def test_rank_deficient_and_absent():
    G = torch.tensor([[1.0, 0.0], [2.0, 0.0]])  # rank 1
    w = aligned_weights(G @ G.T)
    assert torch.isfinite(w).all()
    bal = BALANCERS.build(dict(type='AlignedMTL', tasks=['a', 'b', 'c']))
    assert aggregate(bal, torch.tensor([[3.0, 4.0]]), torch.ones(1),
                     tasks=['b']).tolist() == pytest.approx([3.0, 4.0])
