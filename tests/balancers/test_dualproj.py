"""DualProj: the mean gradient projected onto the dual cone {x: G x >= 0}."""
import pytest
import torch

from mtlbox.balancers.gradient import dualproj_weights
from mtlbox.registry import BALANCERS
from tests.balancers.test_fairgrad import G, H, S, train


#: torchjd 0.18.0 ``DualProj()(matrix)`` (quadprog, norm_eps = reg_eps =
#: 1e-4), float64
TORCHJD = dict(
    G=[0.16666666666666669, 0.4999999999999999, 0.5000000000000001,
       1.1666666666666665],
    H=[0.011280647875616223, 0.15267030014650923, 0.025667575036627307],
    S=[-16.66333333333333, 17.440084916476074, 9.226581750190588],
)


def _build(num, **kwargs):
    return BALANCERS.build(dict(type='DualProj', **kwargs,
                                tasks=[f't{i}' for i in range(num)]))


@pytest.mark.parametrize('name', sorted(TORCHJD))
def test_matches_torchjd_with_its_constants(name):
    M = dict(G=G, H=H, S=S)[name]
    bal = _build(M.shape[0], norm_eps=1e-4, reg_eps=1e-4)
    out = bal.aggregate(M, torch.ones(M.shape[0]), bal.tasks)
    assert out.direction is None
    d = out.combined(M)
    assert d.tolist() == pytest.approx(TORCHJD[name], rel=1e-6, abs=1e-9)


def test_default_keeps_the_dual_cone_for_badly_scaled_gradients():
    # TorchJD's ridge (1e-4 on M / trace M) gives S @ d = (-0.167, 2228,
    # -8.21) on S, i.e. cos(g_1, d) = -0.65; the default has no such ridge
    M = {'G': G, 'H': H, 'S': S}
    for name, A in M.items():
        bal = _build(A.shape[0])
        d = bal.aggregate(A, torch.ones(A.shape[0]), bal.tasks).combined(A)
        cos = (A @ d) / (A.norm(dim=1) * d.norm())
        assert cos.min() >= -1e-7, (name, cos)  # box_qp ridge 1e-9
    # S: d keeps the mean's part along g_2 and only fixes the conflicts;
    # the projection is the nearest point of the cone to the mean
    d = _build(3).aggregate(S, torch.ones(3), ['t0', 't1', 't2']).combined(S)
    gbar = S.mean(0)
    for _ in range(200):  # random feasible points are never nearer
        x = d + 0.1 * torch.randn(3, dtype=S.dtype)
        if (S @ x >= 0).all():
            assert (x - gbar).norm() >= (d - gbar).norm() - 1e-12


def test_closed_forms():
    # no conflict with the mean: the mean itself (weights exactly 1/T)
    A = torch.tensor([[1., 0.], [1., 1.]], dtype=torch.float64)
    assert dualproj_weights(A @ A.T).tolist() == [0.5, 0.5]
    # g1 = (1, 0), g2 = (-2, 1): mean (-0.5, 0.5) conflicts with g1; its
    # projection onto {x1 >= 0, x2 >= 2 x1} is (0, 0.5)
    B = torch.tensor([[1., 0.], [-2., 1.]], dtype=torch.float64)
    bal = _build(2)
    d = bal.aggregate(B, torch.ones(2), bal.tasks).combined(B)
    assert d.tolist() == pytest.approx([0.0, 0.5], abs=1e-8)
    torchjd_like = dualproj_weights(B @ B.T, reg_eps=1e-4) @ B
    assert torchjd_like.tolist() == pytest.approx([0.0, 0.5], abs=1e-3)
    assert abs(float(torchjd_like[0])) > 1e-4  # the ridge's bias


def test_preference_and_absent_tasks():
    # preference (1, 3) restricted to the present tasks a, c -> u = (1/4, 3/4)
    bal = BALANCERS.build(dict(type='DualProj', tasks=['a', 'b', 'c'],
                               preference=[1.0, 5.0, 3.0]))
    A = torch.tensor([[1., 0.], [1., 1.]], dtype=torch.float64)
    out = bal.aggregate(A, torch.ones(2), ['a', 'c'])
    assert out.weights.tolist() == pytest.approx([0.25, 0.75])
    with pytest.raises(ValueError, match='preference'):
        BALANCERS.build(dict(type='DualProj', tasks=['a', 'b'],
                             preference=[1.0]))


def test_trains_through_the_model(tiny_model, batches, optim):
    model = train(tiny_model, batches, optim, dict(type='DualProj'), 2)
    d = model.balanced_step.last_direction
    assert torch.isfinite(d).all() and d.abs().sum() > 0
    assert min(model.balancer.task_weights.values()) >= 1 / 3 - 1e-6
