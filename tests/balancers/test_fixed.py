import pytest
import torch

from mtlbox.registry import BALANCERS

T = ['a', 'b']


def test_weighted_sum_and_absent(roundtrip):
    bal = BALANCERS.build(dict(type='Fixed', tasks=T,
                               weights=dict(a=0.5, b=3.0)))
    total = bal.weigh({'a': torch.tensor(2.0), 'b': torch.tensor(1.0)})
    assert total.item() == pytest.approx(0.5 * 2 + 3 * 1)
    assert bal.weigh({'b': torch.tensor(2.0)}).item() == pytest.approx(6.0)
    roundtrip(dict(type='Fixed', tasks=T, weights=dict(a=0.5, b=3.0)),
              lambda b, k: b.weigh({'a': torch.tensor(1.0 + k)}))


def test_missing_weight_names_task():
    with pytest.raises(KeyError, match='missing .*b'):
        BALANCERS.build(dict(type='Fixed', tasks=T, weights=dict(a=1.0)))
