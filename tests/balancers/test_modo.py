"""MoDo: lam <- Proj_simplex(lam - gamma (G G^T lam + rho lam)),
d = lam @ G."""
import pytest
import torch

from mtlbox.registry import BALANCERS
from tests.balancers.test_fairgrad import G, H, SEQUENCE, train


#: torchjd 0.18.0 ``MoDoWeighting(gamma=0.05, rho=0.1)`` called three times
#: on ``matrix @ matrix.T`` (one batch for G_1 = G_2)
TORCHJD = dict(
    G=[[0.36527777777777776, 0.34027777777777773, 0.29444444444444445],
       [0.38651273148148146, 0.3511168981481481, 0.26237037037037036],
       [0.401432371720679, 0.36290631269290125, 0.23566131558641978]],
    H=[[0.49303125, 0.50696875], [0.49216407617187496, 0.507835923828125],
       [0.4920561672286377, 0.5079438327713623]])
#: LibMTL (commit 4336804) ``MoDo.backward(MoDo_gamma=0.05, MoDo_rho=0.1)``
#: outside the package, its three gradient batches all equal to SEQUENCE[k]
LIBMTL = [[0.36527777777777776, 0.34027777777777773, 0.29444444444444445],
          [0.5153770254629629, 0.34365740740740736, 0.1409655671296297],
          [0.49822584102527, 0.3611002949098186, 0.14067386406491134]]


def _build(num, **kwargs):
    kwargs.setdefault('gamma', 0.05)
    return BALANCERS.build(dict(type='MoDo', tasks=[f't{i}' for i in
                                                    range(num)], **kwargs))


@pytest.mark.parametrize('name', sorted(TORCHJD))
def test_matches_torchjd(name):
    M = dict(G=G, H=H)[name]
    bal = _build(M.shape[0])
    for expected in TORCHJD[name]:
        out = bal.aggregate(M, torch.ones(M.shape[0]), bal.tasks)
        assert out.weights.tolist() == pytest.approx(expected, rel=1e-12)


def test_matches_libmtl_on_changing_gradients():
    bal = _build(3)
    for grads, expected in zip(SEQUENCE, LIBMTL):
        out = bal.aggregate(grads, torch.ones(3), bal.tasks)
        assert out.weights.tolist() == pytest.approx(expected, rel=1e-12)


def test_closed_form_step_and_absent_task(roundtrip):
    # orthogonal g = (2, 0), (0, 1), lam = (1/2, 1/2), gamma 0.1, rho 0:
    # lam - 0.1 (2, 0.5) = (0.3, 0.45) -> projection (0.425, 0.575)
    A = torch.tensor([[2., 0.], [0., 1.]], dtype=torch.float64)
    bal = _build(2, gamma=0.1, rho=0.0)
    assert bal.aggregate(A, torch.ones(2), bal.tasks).weights.tolist() == \
        pytest.approx([0.425, 0.575])
    # tasks a, c present: their share (2/3 of the simplex) moves, b keeps 1/3
    bal = BALANCERS.build(dict(type='MoDo', tasks=['a', 'b', 'c'],
                               gamma=0.1, rho=0.0))
    out = bal.aggregate(A, torch.ones(2), ['a', 'c'])
    assert out.weights.tolist() == pytest.approx([0.425, 0.575])
    assert bal.lam.tolist() == pytest.approx([0.425 * 2 / 3, 1 / 3,
                                              0.575 * 2 / 3])
    roundtrip(dict(type='MoDo', tasks=['t0', 't1', 't2'], gamma=0.05),
              lambda b, k: b.aggregate(SEQUENCE[k % 3], torch.ones(3),
                                       b.tasks).weights)


def test_trains_through_the_model(tiny_model, batches, optim):
    model = train(tiny_model, batches, optim, dict(type='MoDo', gamma=0.1), 2)
    assert float(model.balancer.lam.sum()) == pytest.approx(1.0)
    assert (model.balancer.lam - 1 / 3).abs().max() > 1e-6
