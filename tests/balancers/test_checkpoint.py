"""Balancer state resumes exactly through the model's checkpoint."""
import copy
import io

import pytest
import torch


def _pin_engine(model):
    # both runs must use the same engine mode (the auto choice may differ
    # between them and the modes agree only to rounding)
    model.balanced_step.engine.choice = 'sequential'


@pytest.mark.parametrize('cfg', [
    dict(type='DB-MTL'), dict(type='GradVac'), dict(type='UW'),
    dict(type='Compose', loss_weighting=dict(type='RLW'),
         grad_method=dict(type='MoCo')),
], ids=lambda c: c['type'])
def test_model_checkpoint_resumes_balancer(cfg, tiny_model, batches, optim):
    data = batches(4)
    model = tiny_model(cfg)
    _pin_engine(model)
    ow = optim(model)
    for batch in data[:2]:
        model.train_step(batch, ow)
    buf = io.BytesIO()
    torch.save(dict(state=model.state_dict(),
                    optim=ow.optimizer.state_dict()), buf)
    buf.seek(0)
    saved = torch.load(buf, weights_only=True)
    resumed = tiny_model(copy.deepcopy(cfg))
    resumed.load_state_dict(saved['state'])
    _pin_engine(resumed)
    ow2 = optim(resumed)
    ow2.optimizer.load_state_dict(saved['optim'])
    for batch in data[2:]:
        a = model.train_step(batch, ow)
        b = resumed.train_step(batch, ow2)
        assert a['loss'].item() == b['loss'].item()
    for (name, p), q in zip(model.state_dict().items(),
                            resumed.state_dict().values()):
        assert torch.equal(p, q), name
