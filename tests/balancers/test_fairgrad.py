"""FairGrad: (G G^T w)_t = w_t^(-1/alpha)."""
import pytest
import torch

from mtlbox.balancers.gradient import fairgrad_weights, nash_weights
from mtlbox.registry import BALANCERS

# fixed matrices shared by the tests of the new gradient methods (their
# reference values were computed on exactly these)
G = torch.tensor([[1., 2., -1., 0.5], [0.5, -1., 2., 1.],
                  [-1., 0.5, 0.5, 2.]], dtype=torch.float64)
H = torch.tensor([[3., 0.1, 0.], [-2.9, 0.2, 0.05]], dtype=torch.float64)
#: gradient norms 1e-2 and ~1e2
S = torch.tensor([[1e-2, 0., 0.], [-50., 80., 0.], [0., -1., 1.]],
                 dtype=torch.float64)
#: three steps of changing gradients
SEQUENCE = [G, G * torch.tensor([1.5, 0.5, 1., 2.], dtype=G.dtype),
            G.flip(1) * 0.7 + 0.1]

#: torchjd 0.18.0 ``FairGradWeighting(alpha)(G @ G.T)`` (scipy
#: least_squares from 1/T); LibMTL (commit 4336804) FairGrad.backward on the
#: same G, run outside the package, gives the same to 1e-15
TORCHJD = {
    ('G', 1.0): [0.5137666021535603, 0.4766032637810159, 0.33035529552439447],
    ('G', 2.0): [0.4170913292488371, 0.38845983930820527, 0.2139263799421882],
    ('G', 0.5): [0.6393982967208808, 0.5980734818964533, 0.487968909835637],
    ('H', 1.0): [4.5493116627521974, 4.696945231289718],
    ('H', 2.0): [7.57831142354637, 7.824577086049228],
    ('H', 0.5): [2.731213359719043, 2.819605484258173],
}


def train(tiny_model, batches, optim, balancer, steps=2):
    """The tiny seg/depth/normal model trained ``steps`` SGD steps with
    ``balancer``."""
    model = tiny_model(balancer)
    ow = optim(model)
    for batch in batches(steps):
        model.train_step(batch, ow)
    return model


@pytest.mark.parametrize('key', sorted(TORCHJD))
def test_matches_torchjd(key):
    name, alpha = key
    M = dict(G=G, H=H)[name]
    bal = BALANCERS.build(dict(type='FairGrad', alpha=alpha,
                               tasks=[f't{i}' for i in range(M.shape[0])]))
    out = bal.aggregate(M, torch.ones(M.shape[0]), bal.tasks)
    assert out.weights.tolist() == pytest.approx(TORCHJD[key], rel=1e-6)
    assert out.direction is None  # d = w @ G exactly


@pytest.mark.parametrize('alpha', [0.5, 1.0, 2.0, 5.0])
def test_orthogonal_closed_form(alpha):
    # M = diag(n^2): n_t^2 w_t = w_t^(-1/alpha) -> w_t = n_t^(-2a/(a+1))
    norms = torch.tensor([0.1, 1.0, 30.0], dtype=torch.float64)
    w = fairgrad_weights(torch.diag(norms**2), alpha)
    expected = norms**(-2 * alpha / (alpha + 1))
    assert w.tolist() == pytest.approx(expected.tolist(), rel=1e-9)


def test_alpha_one_is_nash_and_scaling():
    torch.manual_seed(3)
    A = torch.randn(4, 9, dtype=torch.float64)
    nash, _ = nash_weights(A @ A.T)
    assert fairgrad_weights(A @ A.T, 1.0).tolist() == pytest.approx(
        nash.tolist(), rel=1e-7)
    # G -> c G scales w by c^(-2a/(a+1)), so d by c^((1-a)/(1+a))
    for alpha in (1.0, 2.0):
        w1 = fairgrad_weights(A @ A.T, alpha)
        w2 = fairgrad_weights(100 * A @ A.T, alpha)  # c = 10
        assert (w2 / w1).tolist() == pytest.approx(
            [10**(-2 * alpha / (alpha + 1))] * 4, rel=1e-7)


def test_badly_scaled_gradients_solve_the_equation():
    # norms 1e-2 and ~1e2: scipy's least_squares (TorchJD) stops at relative
    # residual 1e-10 for alpha=1 but 3e2 for alpha=0.5 here; check the
    # equation itself
    M = S @ S.T
    for alpha in (0.5, 1.0, 2.0):
        w = fairgrad_weights(M, alpha)
        target = w**(-1 / alpha)
        assert ((M @ w - target) / target).abs().max() < 1e-6
    assert fairgrad_weights(M, 1.0)[0] == pytest.approx(191.720603829,
                                                         rel=1e-8)


def test_zero_gradient_and_absent_task():
    bal = BALANCERS.build(dict(type='FairGrad', tasks=['a', 'b', 'c']))
    Z = torch.cat([H[:1], torch.zeros(1, 3, dtype=H.dtype), H[1:]])
    out = bal.aggregate(Z, torch.ones(3), ['a', 'b', 'c'])
    assert out.weights[1] == 0
    assert out.weights[[0, 2]].tolist() == pytest.approx(TORCHJD['H', 1.0],
                                                         rel=1e-6)
    with pytest.raises(ValueError, match='alpha'):
        BALANCERS.build(dict(type='FairGrad', tasks=['a'], alpha=0))


def test_trains_through_the_model(tiny_model, batches, optim):
    model = train(tiny_model, batches, optim, dict(type='FairGrad', alpha=2.0))
    d = model.balanced_step.last_direction
    assert torch.isfinite(d).all() and d.abs().sum() > 0
    weights = list(model.balancer.task_weights.values())
    assert len(weights) == 3 and min(weights) > 0
