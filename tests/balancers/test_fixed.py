import pytest
import torch

from mtlbox.registry import BALANCERS
from tests.balancers.conftest import weigh

T = ['a', 'b']


def test_weighted_sum_and_absent(roundtrip):
    bal = BALANCERS.build(dict(type='Fixed', tasks=T,
                               weights=dict(a=0.5, b=3.0)))
    total = weigh(bal, {'a': torch.tensor(2.0), 'b': torch.tensor(1.0)})
    assert total.item() == pytest.approx(0.5 * 2 + 3 * 1)
    assert weigh(bal, {'b': torch.tensor(2.0)}).item() == pytest.approx(6.0)
    roundtrip(dict(type='Fixed', tasks=T, weights=dict(a=0.5, b=3.0)),
              lambda b, k: weigh(b, {'a': torch.tensor(1.0 + k)}))


def test_missing_weight_names_task():
    with pytest.raises(KeyError, match='missing .*b'):
        BALANCERS.build(dict(type='Fixed', tasks=T, weights=dict(a=1.0)))
