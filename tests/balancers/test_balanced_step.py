"""The step owner: one strategy per balancer family, plugins add one."""
import copy

import pytest
import torch

from mtlbox.balancers import BaseBalancer, Weighting
from mtlbox.engine.balanced_step import (FeatureStep, GradStep, LossStep,
                                         SampleStep, build_step)
from mtlbox.registry import STEPS


@pytest.mark.parametrize('family, cls', [
    ('losses', LossStep), ('grads', GradStep), ('features', FeatureStep),
    ('samples', SampleStep)])
def test_each_family_has_its_registered_strategy(family, cls):
    step = build_step(family)
    assert type(step) is cls and step.family == family


def test_an_unknown_family_names_the_balancer_and_the_fix():
    with pytest.raises(ValueError, match="MyBalancer has needs='odd'.*"
                       'STEPS.register_module'):
        build_step('odd', balancer_name='MyBalancer')


class _Halves(BaseBalancer):
    needs = 'halved'

    def weigh(self, losses):
        return Weighting(total=sum(losses.values()))


def test_a_plugin_family_owns_the_step(tiny_model, batches, optim):
    """A registered family gets the step: here a loss step that halves the
    total, so the first SGD update is exactly half of EW's."""

    @STEPS.register_module(name='halved', force=True)
    class HalvedStep(LossStep):
        def __call__(self, model, data, losses, shared, trunk, ow):
            total = model.balancer.weigh(losses).total * 0.5
            self.backward(ow, total)
            self.finish(ow)
            return total

    try:
        ew = tiny_model(dict(type='EW'))
        ew.eval()
        halved = copy.deepcopy(ew)
        halved.balancer = _Halves(ew.tasks)
        assert isinstance(halved.balanced_step, HalvedStep)
        before = [p.detach().clone() for p in ew.parameters()]
        batch = batches(1)[0]
        ew.train_step(copy.deepcopy(batch), optim(ew))
        halved.train_step(copy.deepcopy(batch), optim(halved))
        for p0, a, b in zip(before, ew.parameters(), halved.parameters()):
            torch.testing.assert_close(b - p0, (a - p0) * 0.5, atol=1e-7,
                                       rtol=1e-4)
    finally:
        STEPS._module_dict.pop('halved', None)
