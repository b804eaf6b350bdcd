import pytest
import torch

from mtlbox.registry import BALANCERS
from tests.balancers.conftest import weigh

T = ['a', 'b', 'c']


def test_weights_are_a_fresh_softmax_each_step(roundtrip):
    bal = BALANCERS.build(dict(type='RLW', tasks=T, seed=3))
    losses = {t: torch.tensor(1.0) for t in T}
    seen = []
    for _ in range(3):
        total = weigh(bal, losses)
        w = torch.tensor([bal.task_weights[t] for t in T])
        assert w.sum().item() == pytest.approx(1.0)
        assert (w > 0).all()
        assert total.item() == pytest.approx(1.0)  # sum w * 1
        seen.append(w)
    assert not torch.allclose(seen[0], seen[1])
    # the weights are softmax of a standard normal draw: log-ratios are the
    # draws' differences, which over many steps have variance 2
    diffs = []
    for _ in range(2000):
        weigh(bal, losses)
        diffs.append(torch.log(torch.tensor(bal.task_weights['a'] /
                                            bal.task_weights['b'])))
    assert torch.stack(diffs).var().item() == pytest.approx(2.0, rel=0.15)


def test_absent_and_roundtrip(roundtrip):
    bal = BALANCERS.build(dict(type='RLW', tasks=T))
    weigh(bal, {'b': torch.tensor(2.0)})
    assert bal.task_weights['b'] == pytest.approx(1.0)
    assert bal.task_weights['a'] == 0.0
    roundtrip(dict(type='RLW', tasks=T),
              lambda b, k: weigh(b, {t: torch.tensor(1.0 + i)
                                    for i, t in enumerate(T)}))
