"""ExcessMTL: exponentiated-gradient weights from excess-risk estimates."""
import math

import pytest
import torch

from mtlbox.balancers.gradient.excess_mtl import (accumulate_excess_risk,
                                                  excess_risk)
from mtlbox.registry import BALANCERS
from tests.balancers.test_fairgrad import G, SEQUENCE, train


#: LibMTL (commit 4336804) ``ExcessMTL.backward`` run outside the package
#: on the three matrices of SEQUENCE with ``robust_step_size=0.5``: the
#: loss weights returned after each call
LIBMTL = [[1.0, 1.0, 1.0],
          [0.8744809867742664, 0.9508877783828362, 1.174631234842897],
          [0.8729805598443894, 0.9625941110953677, 1.164425329060243]]


def _build(tasks=('a', 'b', 'c'), **kwargs):
    return BALANCERS.build(dict(type='ExcessMTL', tasks=list(tasks),
                                **kwargs))


def test_matches_libmtl():
    bal = _build(step_size=0.5)
    for grads, expected in zip(SEQUENCE, LIBMTL):
        out = bal.aggregate(grads, torch.ones(3), bal.tasks)
        assert out.weights.tolist() == pytest.approx(expected, rel=1e-12)
        # sum_t w_t L_t: the heads are weighted too
        assert torch.equal(out.specific_weights, out.weights)


def test_closed_form_two_steps():
    # step 1 stores e_t(0) = sum |g| (eps aside); step 2 with g_2 -> 2 g_2:
    # S = g^2 (1 + c^2), e = c^2 sum |g| / sqrt(1 + c^2), so r_1 = 1/sqrt 2,
    # r_2 = 4 / sqrt 5 and w = 2 softmax(eta r)
    A = torch.tensor([[3., -1.], [1., 2.]], dtype=torch.float64)
    bal = _build(('a', 'b'), step_size=0.1)
    assert bal.aggregate(A, torch.ones(2), ['a', 'b']).weights.tolist() \
        == [1.0, 1.0]
    out = bal.aggregate(A * torch.tensor([[1.], [2.]], dtype=A.dtype),
                        torch.ones(2), ['a', 'b'])
    r = torch.tensor([1 / math.sqrt(2), 4 / math.sqrt(5)],
                     dtype=torch.float64)
    expected = 2 * torch.softmax(0.1 * r, 0)
    assert out.weights.tolist() == pytest.approx(expected.tolist(), rel=1e-6)
    # the same gradient again and again: equal ratios, weights stay equal
    same = _build(('a', 'b'))
    for _ in range(4):
        w = same.aggregate(A, torch.ones(2), ['a', 'b']).weights
    assert w.tolist() == pytest.approx([1.0, 1.0], rel=1e-9)


def test_absent_task_stores_its_scale_when_it_appears(roundtrip):
    bal = _build()
    bal.aggregate(G[[0, 2]], torch.ones(2), ['a', 'c'])
    assert torch.isnan(bal.initial_risk[1])
    assert bal.sq_grad_sum[1].abs().sum() == 0
    out = bal.aggregate(G, torch.ones(3), ['a', 'b', 'c'])
    assert not torch.isnan(bal.initial_risk).any()
    assert float(out.weights.sum()) == pytest.approx(3.0)
    # state: lazy [T, P] squared sums, scales and weights resume exactly
    roundtrip(dict(type='ExcessMTL', tasks=['a', 'b', 'c'], step_size=0.5),
              lambda b, k: b.aggregate(SEQUENCE[k % 3], torch.ones(3),
                                       ['a', 'b', 'c']).weights)


def test_trains_through_the_model(tiny_model, batches, optim):
    model = train(tiny_model, batches, optim,
                  dict(type='ExcessMTL', step_size=0.5), 3)
    bal = model.balancer
    assert bal.sq_grad_sum.shape[0] == 3
    weights = torch.tensor(list(bal.task_weights.values()))
    assert float(weights.sum()) == pytest.approx(3.0, rel=1e-6)
    assert (weights - 1).abs().max() > 1e-4  # they moved




def test_blockwise_accumulation_equals_the_formula():
    torch.manual_seed(2)
    grads = torch.randn(3, 1000, dtype=torch.float64)
    sums = torch.rand(3, 1000, dtype=torch.float64)
    start = sums.clone()
    by_hand = (grads**2 / (start + grads**2 + 1e-7).sqrt()).sum(1)
    assert excess_risk(grads, start + grads**2).tolist() == pytest.approx(
        by_hand.tolist(), rel=1e-12)
    got = accumulate_excess_risk(grads, sums, block=64)  # 16 blocks
    assert got.tolist() == pytest.approx(by_hand.tolist(), rel=1e-12)
    torch.testing.assert_close(sums, start + grads**2)  # S updated in place
