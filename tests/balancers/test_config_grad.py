"""ConFIG: d = (sum_t g_t . v_hat) v_hat, v = U^+ 1 (U: unit gradients)."""
import math

import pytest
import torch

from mtlbox.registry import BALANCERS
from tests.balancers.test_fairgrad import G, H, S, train


#: torchjd 0.18.0 ``ConFIG()(matrix)`` (pinv of the unit rows, preference
#: ones, projection length), float64
TORCHJD = dict(
    G=[1.903176762031703, 1.5185696288996438, 1.4306973388186044,
       2.4304105025179354],
    H=[0.005797080999728012, 0.3016735934199223, 0.05081129618875247],
    S=[6.552984938902757, 11.823207620846686, 21.09052779546959],
)


def _aggregate(M, tasks=None):
    tasks = tasks or [f't{i}' for i in range(M.shape[0])]
    bal = BALANCERS.build(dict(type='ConFIG', tasks=tasks))
    return bal.aggregate(M, torch.ones(M.shape[0]), tasks)


@pytest.mark.parametrize('name', sorted(TORCHJD))
def test_matches_torchjd_and_equal_cosines(name):
    M = dict(G=G, H=H, S=S)[name]
    out = _aggregate(M)
    assert out.direction is None
    d = out.combined(M)
    assert d.tolist() == pytest.approx(TORCHJD[name], rel=1e-9)
    cosines = (M @ d) / (M.norm(dim=1) * d.norm())
    assert cosines.tolist() == pytest.approx([float(cosines[0])] *
                                             M.shape[0], rel=1e-9)
    assert float(cosines[0]) > 0


def test_orthogonal_closed_form():
    # g1 = (3, 0), g2 = (0, 1): v_hat = (1, 1) / sqrt 2, length
    # (3 + 1) / sqrt 2 -> d = (2, 2)
    A = torch.tensor([[3., 0.], [0., 1.]], dtype=torch.float64)
    assert _aggregate(A).combined(A).tolist() == pytest.approx([2.0, 2.0])
    assert math.isclose(float(_aggregate(A).weights[0]), 2 / 3)


def test_zero_row_left_out():
    Z = torch.cat([G[:1], torch.zeros(1, 4, dtype=G.dtype), G[1:]])
    out = _aggregate(Z)
    assert out.weights[1] == 0
    d = out.combined(Z)
    assert d.tolist() == pytest.approx(_aggregate(G).combined(G).tolist(),
                                       rel=1e-9)


def test_trains_through_the_model(tiny_model, batches, optim):
    model = train(tiny_model, batches, optim, dict(type='ConFIG'), 2)
    d = model.balanced_step.last_direction
    assert torch.isfinite(d).all() and d.abs().sum() > 0
