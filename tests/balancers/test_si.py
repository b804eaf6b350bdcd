"""SI: sum_t w_t log L_t."""
import math

import pytest
import torch

from mtlbox.registry import BALANCERS
from tests.balancers.conftest import assert_same_backbone_update


def test_total_weights_and_scale_invariance():
    bal = BALANCERS.build(dict(type='SI', tasks=['a', 'b', 'c'],
                               weights=dict(b=2.0)))
    losses = dict(a=torch.tensor(4.0, requires_grad=True),
                  c=torch.tensor(0.5, requires_grad=True))
    out = bal.weigh(losses)
    assert float(out.total) == pytest.approx(math.log(4.0) + math.log(0.5))
    assert out.weights.tolist() == pytest.approx([0.25, 2.0])
    out.total.backward()
    assert losses['a'].grad.item() == pytest.approx(0.25)
    assert losses['c'].grad.item() == pytest.approx(2.0)
    # multiplying a loss by 10 adds a constant: the gradient of the
    # parameters is unchanged
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    grads = []
    for k in (1.0, 10.0):
        x.grad = None
        total = bal.weigh(dict(a=k * (x**2).sum(), b=(x - 3).abs().sum()))
        total.total.backward()
        grads.append(x.grad.clone())
    torch.testing.assert_close(grads[0], grads[1])
    # b has weight 2: d/dx [log(sum x^2) + 2 log(sum |x - 3|)] at (1, 2)
    expected = [2 * 1 / 5 - 2 / 3, 2 * 2 / 5 - 2 / 3]
    assert grads[0].tolist() == pytest.approx(expected)


def test_non_positive_loss_names_the_task():
    bal = BALANCERS.build(dict(type='SI', tasks=['a', 'b']))
    with pytest.raises(ValueError, match='b=0'):
        bal.weigh(dict(a=torch.tensor(1.0), b=torch.tensor(0.0)))
    with pytest.raises(KeyError, match='unknown'):
        BALANCERS.build(dict(type='SI', tasks=['a'], weights=dict(z=1.0)))


def test_trains_through_the_model_as_weighted_sum(tiny_model, batches,
                                                  optim):
    """One SI step equals one Fixed step with weights 1 / L_t (the values
    of the same batch)."""
    import copy
    ref = tiny_model(dict(type='EW'))
    ref.eval()
    batch = batches(1)[0]
    with torch.no_grad():
        data = ref.data_preprocessor(copy.deepcopy(batch), True)
        raw = ref.loss(data['inputs'], data['data_samples'])
    per_task = {}
    for key, value in raw.items():
        task = key.split('.')[0]
        per_task[task] = per_task.get(task, 0.0) + float(value)
    model = copy.deepcopy(ref)
    model.balancer = BALANCERS.build(dict(type='SI', tasks=ref.tasks))
    ref.balancer = BALANCERS.build(dict(
        type='Fixed', tasks=ref.tasks,
        weights={t: 1 / v for t, v in per_task.items()}))
    assert_same_backbone_update(ref, model, batch, optim)
    assert model.balancer.task_weights == pytest.approx(
        {t: 1 / v for t, v in per_task.items()}, rel=1e-5)
