import math

import pytest
import torch

from mtlbox.registry import BALANCERS
from tests.balancers.conftest import weigh

T = ['det', 'seg', 'depth']
KEYS = dict(det='det/mAP', seg='seg/mIoU', depth='depth/delta1')
POT = dict(det=0.5729, seg=0.7791, depth=0.8930)


def cfg(**kw):
    return dict(type='AMTL', tasks=T, metric_keys=KEYS, potentials=POT, **kw)


def expected_weights(kappa):
    vals = []
    for t in T:
        ratio = min(kappa[t] / (POT[t] * 1.05), 1.0)
        vals.append((1 - ratio)**2)
    z = sum(math.exp(v) for v in vals)
    return [math.exp(v) / z for v in vals]


def test_uniform_then_achievement_softmax():
    bal = BALANCERS.build(cfg())
    losses = {'det': torch.tensor(2.0), 'seg': torch.tensor(1.0),
              'depth': torch.tensor(0.5)}
    total = weigh(bal, losses)
    assert total.item() == pytest.approx((2 * 1 * 0.5)**(1 / 3))
    # det above its potential: ratio clamped to 1
    bal.after_val({'det/mAP': 0.3, 'seg/mIoU': 0.6, 'depth/delta1': 0.95})
    bal.after_val({'det/mAP': 0.4, 'seg/mIoU': 0.7, 'depth/delta1': 0.99})
    kappa = dict(det=0.9 * 0.3 + 0.1 * 0.4, seg=0.9 * 0.6 + 0.1 * 0.7,
                 depth=0.9 * 0.95 + 0.1 * 0.99)
    w = expected_weights(kappa)
    total = weigh(bal, losses)
    assert [bal.task_weights[t] for t in T] == pytest.approx(w)
    assert total.item() == pytest.approx(2.0**w[0] * 1.0**w[1] * 0.5**w[2])
    ari = BALANCERS.build(cfg(combiner='arithmetic'))
    ari.load_state_dict(bal.state_dict())
    assert weigh(ari, losses).item() == pytest.approx(
        2 * w[0] + 1 * w[1] + 0.5 * w[2])


def test_absent_task_no_nan_and_renormalised(roundtrip):
    bal = BALANCERS.build(cfg())
    bal.after_val({'det/mAP': 0.3, 'seg/mIoU': 0.6, 'depth/delta1': 0.5})
    lseg = torch.tensor(0.0 + 1.5, requires_grad=True)
    ldep = torch.tensor(0.7, requires_grad=True)
    total = weigh(bal, {'seg': lseg, 'depth': ldep})
    total.backward()
    assert torch.isfinite(total) and torch.isfinite(lseg.grad)
    assert bal.task_weights['seg'] + bal.task_weights['depth'] == \
        pytest.approx(1.0)
    assert bal.task_weights['det'] == 0.0
    # zero loss of a present task: finite (zero) gradient, not NaN
    lz = torch.tensor(0.0, requires_grad=True)
    weigh(bal, {'seg': lz, 'depth': torch.tensor(1.0)}).backward()
    assert torch.isfinite(lz.grad)

    def step(b, k):
        b.after_val({'det/mAP': 0.1 * k, 'seg/mIoU': 0.5,
                     'depth/delta1': 0.9})
        return weigh(b, {'det': torch.tensor(1.0), 'seg': torch.tensor(2.0)})

    roundtrip(cfg(), step)
