import math

import pytest
import torch

from mtlbox.registry import BALANCERS
from tests.balancers.conftest import weigh

T = ['seg', 'depth']
KEYS = dict(seg='seg/mIoU', depth='depth/delta1')


def cfg(**kw):
    return dict(type='DTP', tasks=T, metric_keys=KEYS, **kw)


def test_weights_from_metric_history():
    bal = BALANCERS.build(cfg())
    losses = {'seg': torch.tensor(2.0), 'depth': torch.tensor(3.0)}
    assert weigh(bal, losses).item() == pytest.approx(5.0)  # before eval
    bal.after_val({'seg/mIoU': 0.4, 'depth/delta1': 0.8, 'other': 1.0})
    bal.after_val({'seg/mIoU': 0.6, 'depth/delta1': 0.9})
    k_seg = 0.9 * 0.4 + 0.1 * 0.6  # 0.42
    k_dep = 0.9 * 0.8 + 0.1 * 0.9  # 0.81
    w_seg = -(1 - k_seg)**0.5 * math.log(k_seg)
    w_dep = -(1 - k_dep)**0.5 * math.log(k_dep)
    total = weigh(bal, losses)
    assert bal.task_weights['seg'] == pytest.approx(w_seg)
    assert total.item() == pytest.approx(2 * w_seg + 3 * w_dep)
    geo = BALANCERS.build(cfg(combiner='geometric'))
    geo.load_state_dict(bal.state_dict())
    assert weigh(geo, losses).item() == pytest.approx(
        2.0**w_seg * 3.0**w_dep)


def test_absent_task_and_errors(roundtrip):
    bal = BALANCERS.build(cfg(combiner='geometric'))
    bal.after_val({'seg/mIoU': 0.5, 'depth/delta1': 0.5})
    lseg = torch.tensor(2.0, requires_grad=True)
    total = weigh(bal, {'seg': lseg})
    total.backward()
    assert torch.isfinite(lseg.grad)
    with pytest.raises(KeyError, match='depth/delta1'):
        bal.after_val({'seg/mIoU': 0.5})
    with pytest.raises(ValueError, match='metric_scale=0.01'):
        bal.after_val({'seg/mIoU': 55.0, 'depth/delta1': 0.5})
    with pytest.raises(KeyError, match='missing .*depth'):
        BALANCERS.build(dict(type='DTP', tasks=T, metric_keys={'seg': 'x'}))

    def step(b, k):
        b.after_val({'seg/mIoU': 0.1 * (k + 1), 'depth/delta1': 0.5})
        return weigh(b, {'seg': torch.tensor(1.0), 'depth': torch.tensor(2.)})

    roundtrip(cfg(), step)
