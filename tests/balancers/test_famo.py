import math

import pytest
import torch

from mtlbox.registry import BALANCERS
from tests.balancers.conftest import weigh

T = ['a', 'b']


def test_weights_and_logit_update(roundtrip):
    bal = BALANCERS.build(dict(type='FAMO', tasks=T))
    la = torch.tensor(1.0, requires_grad=True)
    lb = torch.tensor(2.0, requires_grad=True)
    weigh(bal, {'a': la, 'b': lb}).backward()
    # z uniform: w_t = (z_t / L_t) / sum_s z_s / L_s = (1, 0.5) / 1.5
    assert la.grad.item() == pytest.approx(2 / 3)
    assert lb.grad.item() == pytest.approx(1 / 3)
    assert bal.logits.tolist() == [0.0, 0.0]
    # next step: a fell from 1 to 0.5, b unchanged -> delta = (log 2, 0);
    # grad_xi = J_softmax^T delta = (log2/4, -log2/4); first Adam step moves
    # each logit by -lr * sign(grad)
    weigh(bal, {'a': torch.tensor(0.5), 'b': torch.tensor(2.0)})
    assert bal.logits.tolist() == pytest.approx([-0.025, 0.025], abs=1e-6)
    assert math.isclose(bal.task_weights['a'] + bal.task_weights['b'], 1.0)


def test_absent_and_roundtrip(roundtrip):
    bal = BALANCERS.build(dict(type='FAMO', tasks=T))
    weigh(bal, {'a': torch.tensor(1.0), 'b': torch.tensor(1.0)})
    total = weigh(bal, {'b': torch.tensor(0.5)})
    assert torch.isfinite(total)
    assert bal.prev_losses[0].item() == 1.0  # a's last loss kept
    roundtrip(dict(type='FAMO', tasks=T),
              lambda b, k: weigh(b, {'a': torch.tensor(1.0 / (k + 1)),
                                    'b': torch.tensor(1.0)}).detach())
