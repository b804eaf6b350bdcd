"""A plugin registers a head and a balancer through custom_imports."""
import copy
import os
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLUGIN = os.path.join(ROOT, 'examples', 'plugin')


@pytest.fixture
def plugin_path(monkeypatch):
    monkeypatch.syspath_prepend(PLUGIN)
    yield
    for name in [m for m in sys.modules if m.startswith('mtl_plugin')]:
        del sys.modules[name]


def test_plugin_components_build_and_train(plugin_path):
    from mtlbox.registry import BALANCERS, MODELS
    from mtlbox.utils import check_config_types
    cfg = Config.fromfile(
        os.path.join(PLUGIN, 'configs', 'logsum_sobel_synth.py'))
    check_config_types(cfg)  # custom_imports made the types known
    assert BALANCERS.get('LogSum') is not None
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.out_indices = (2, 3)
    model_cfg.neck.in_channels = [256, 512]
    for head in model_cfg.heads.values():
        head.in_channels = [64, 64]
    model = MODELS.build(model_cfg)
    from mtlbox.datasets import SynthScenes
    ds = SynthScenes(num_samples=2, img_size=(32, 32),
                     tasks=('seg', 'depth', 'normal'),
                     pipeline=[dict(type='PackMTLInputs')])
    items = [ds[0], ds[1]]
    data = dict(inputs=[i['inputs'] for i in items],
                data_samples=[i['data_samples'] for i in items])
    logs = model.train_step(
        data, OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01)))
    assert 'depth.loss_grad' in logs and logs['depth.loss_grad'] > 0
    # LogSum: total = sum log(1 + L_t) and weights 1 / (1 + L_t)
    per_task = {t: sum(v for k, v in logs.items()
                       if k.startswith(t + '.loss')) for t in model.tasks}
    expected = sum(torch.log1p(v) for v in per_task.values())
    torch.testing.assert_close(logs['loss'], expected)
    torch.testing.assert_close(logs['depth.weight'],
                               1 / (1 + per_task['depth']))
