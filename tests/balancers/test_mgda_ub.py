import pytest
import torch

from mtlbox.registry import BALANCERS
from tests.balancers.conftest import aggregate


def test_is_mgda_on_features():
    bal = BALANCERS.build(dict(type='MGDA-UB', tasks=['a', 'b']))
    assert bal.needs == 'features'
    G = torch.tensor([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    assert aggregate(bal, G, torch.ones(2)).tolist() == pytest.approx(
        [0.8, 0.4, 0.0])


def test_trains_through_model(tiny_model, batches, optim):
    model = tiny_model(dict(type='MGDAUB', normalization='loss+'))
    ow = optim(model)
    before = [p.detach().clone() for p in model.backbone.parameters()]
    for batch in batches(2):
        out = model.train_step(batch, ow)
        assert all(torch.isfinite(v) for v in out.values())
    assert any(not torch.equal(a, b.detach())
               for a, b in zip(before, model.backbone.parameters()))
