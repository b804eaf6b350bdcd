"""The pure balancer contract: ``aggregate(G, losses, tasks) ->
Aggregation`` and ``weigh(losses) -> Weighting``; the step owner logs the
returned weights and applies ``weights @ G`` when no direction is given."""
import copy

import pytest
import torch

from mtlbox.balancers import Aggregation, BaseBalancer, Weighting


class _Fixed(BaseBalancer):
    """Gradient-level: returns only weights (2, 1, 0.5 by task order)."""

    needs = 'grads'

    def aggregate(self, grads, losses, tasks):
        w = torch.tensor([{'seg': 2.0, 'depth': 1.0, 'normal': 0.5}[t]
                          for t in tasks])
        return Aggregation(weights=w)


class _FixedLoss(BaseBalancer):
    needs = 'losses'

    def weigh(self, losses):
        w = torch.tensor([{'seg': 2.0, 'depth': 1.0, 'normal': 0.5}[t]
                          for t in losses])
        return Weighting(
            total=sum(wi * losses[t] for wi, t in zip(w, losses)), weights=w)


def test_aggregation_needs_a_direction_or_weights():
    with pytest.raises(ValueError, match='direction or weights'):
        Aggregation()
    G = torch.arange(6.).view(2, 3)
    torch.testing.assert_close(
        Aggregation(weights=torch.tensor([1., -1.])).combined(G),
        torch.tensor([-3., -3., -3.]))


@pytest.mark.parametrize('cls', [_Fixed, _FixedLoss])
def test_weights_only_equals_the_fixed_weighted_sum(cls, tiny_model, batches,
                                                    optim):
    """Both contracts give the update of ``sum_t w_t L_t`` on the shared
    parameters, and the weights are logged from the returned value."""
    ref = tiny_model(dict(type='Fixed', weights=dict(seg=2.0, depth=1.0,
                                                      normal=0.5)))
    ref.eval()
    model = copy.deepcopy(ref)
    model.balancer = cls(ref.tasks)
    before = [p.detach().clone() for p in ref.backbone.parameters()]
    batch = batches(1)[0]
    ref.train_step(copy.deepcopy(batch), optim(ref))
    model.train_step(copy.deepcopy(batch), optim(model))
    for p0, a, b in zip(before, ref.backbone.parameters(),
                        model.backbone.parameters()):
        torch.testing.assert_close(b - p0, a - p0, atol=1e-7, rtol=1e-4)
    assert model.balancer.task_weights == pytest.approx(
        dict(seg=2.0, depth=1.0, normal=0.5))
