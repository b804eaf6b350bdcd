import torch

from mtlbox.registry import BALANCERS
from tests.balancers.conftest import weigh

T = ['a', 'b', 'c']


def test_sum_and_absent_task():
    bal = BALANCERS.build(dict(type='EW', tasks=T))
    total = weigh(bal, {'a': torch.tensor(1.5), 'c': torch.tensor(2.0)})
    assert total.item() == 3.5
    assert bal.task_weights == {'a': 1.0, 'b': 0.0, 'c': 1.0}
