"""SDMGrad: d = (G^T w + lamda g0) / (1 + lamda), w from a warm-started
projected heavy-ball solver."""
import pytest
import torch

from mtlbox.registry import BALANCERS
from tests.balancers.test_fairgrad import G, H, SEQUENCE, train


#: torchjd 0.18.0 ``SDMGradWeighting(lr=0.2, n_iter=5)`` (momentum 0.5,
#: lambda 0.3) called three times on ``matrix @ matrix.T``: the direction
#: weights (w + lambda / T) / (1 + lambda)
TORCHJD = dict(
    G=[[0.4368727475571965, 0.39040185732964233, 0.1727253951131611],
       [0.45141753356400965, 0.4317514561602304, 0.11683101027575991],
       [0.46056724398595356, 0.44382740855964864, 0.09560534745439782]],
    H=[[0.49058424446664217, 0.5094157555333578],
       [0.4922437869026536, 0.5077562130973464],
       [0.4919512898123069, 0.508048710187693]])
#: LibMTL (commit 4336804) ``SDMGrad.backward(SDMGrad_lamda=0.3,
#: SDMGrad_niter=3)`` (its inner lr is 5) outside the package, its three
#: gradient batches all equal to SEQUENCE[k]: (self.w, the direction)
LIBMTL = [
    ([1.0, 0.0, 0.0],
     [0.8076923076923077, 1.6538461538461537, -0.6538461538461539,
      0.6538461538461539]),
    ([0.8427585776603976, 0.15724142233960192, 0.0],
     [1.1208222563425367, 0.6454906665312281, -0.2909813330624567,
      1.4286472479535397]),
    ([0.0, 1.0, 0.0],
     [0.8269230769230769, 1.2576923076923077, -0.35769230769230764,
      0.3961538461538461]),
]


def _build(num, **kwargs):
    return BALANCERS.build(dict(type='SDMGrad', tasks=[f't{i}' for i in
                                                       range(num)], **kwargs))


@pytest.mark.parametrize('name', sorted(TORCHJD))
def test_matches_torchjd(name):
    M = dict(G=G, H=H)[name]
    bal = _build(M.shape[0], lr=0.2, num_iter=5)
    for expected in TORCHJD[name]:
        out = bal.aggregate(M, torch.ones(M.shape[0]), bal.tasks)
        assert out.weights.tolist() == pytest.approx(expected, rel=1e-12)


def test_matches_libmtl_on_changing_gradients():
    bal = _build(3, lr=5.0, num_iter=3)
    for grads, (w, direction) in zip(SEQUENCE, LIBMTL):
        out = bal.aggregate(grads, torch.ones(3), bal.tasks)
        assert bal.w.tolist() == pytest.approx(w, rel=1e-12, abs=1e-15)
        assert out.combined(grads).tolist() == pytest.approx(direction,
                                                             rel=1e-12)


def test_limits_and_absent_task(roundtrip):
    # a huge lamda: d -> the mean gradient whatever w is; lamda 0 with many
    # iterations: the min-norm point of the hull (MGDA)
    A = torch.tensor([[1., 0.], [0., 3.]], dtype=torch.float64)
    out = _build(2, lamda=1e6).aggregate(A, torch.ones(2), ['t0', 't1'])
    assert out.weights.tolist() == pytest.approx([0.5, 0.5], rel=1e-5)
    B = torch.tensor([[2., 0.], [-1., 1.]], dtype=torch.float64)
    out = _build(2, lamda=0.0, lr=0.1, num_iter=500).aggregate(
        B, torch.ones(2), ['t0', 't1'])
    # d/dgamma [(3 gamma - 1)^2 + (1 - gamma)^2] = 20 gamma - 8 = 0
    assert out.weights.tolist() == pytest.approx([0.4, 0.6], abs=1e-6)
    bal = BALANCERS.build(dict(type='SDMGrad', tasks=['a', 'b', 'c']))
    bal.aggregate(B, torch.ones(2), ['a', 'c'])
    assert float(bal.w[1]) == pytest.approx(1 / 3)
    assert float(bal.w.sum()) == pytest.approx(1.0)
    roundtrip(dict(type='SDMGrad', tasks=['t0', 't1', 't2'], lr=0.2,
                   num_iter=5),
              lambda b, k: b.aggregate(SEQUENCE[k % 3], torch.ones(3),
                                       b.tasks).weights)


def test_trains_through_the_model(tiny_model, batches, optim):
    model = train(tiny_model, batches, optim, dict(type='SDMGrad', lr=0.5), 2)
    weights = torch.tensor(list(model.balancer.task_weights.values()))
    assert float(weights.sum()) == pytest.approx(1.0, rel=1e-6)
    assert weights.min() >= 0.3 / 3 / 1.3 - 1e-6  # lamda u / (1 + lamda)
