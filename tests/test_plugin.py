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
    # the next test imports the plugin afresh: forget its registrations
    from mtlbox.registry import ALL_REGISTRIES
    for registry in ALL_REGISTRIES.values():
        for key, cls in list(registry.module_dict.items()):
            if getattr(cls, '__module__', '').startswith('mtl_plugin'):
                del registry._module_dict[key]


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


def test_sobel_head_runs_one_forward_per_loss(plugin_path):
    from mtl_plugin import SobelDepthHead
    from mtlbox.datasets import SynthScenes
    head = SobelDepthHead(8)
    head.task = 'depth'
    calls = []
    forward = head.forward
    head.forward = lambda feats: calls.append(1) or forward(feats)
    ds = SynthScenes(num_samples=2, img_size=(16, 16), tasks=('depth', ),
                     pipeline=[dict(type='PackMTLInputs')])
    samples = [ds[i]['data_samples'] for i in range(2)]
    for s in samples:
        s.set_metainfo(dict(batch_input_shape=(16, 16)))
    losses = head.loss([torch.randn(2, 8, 4, 4)], samples)
    assert calls == [1]
    assert set(losses) == {'loss_l1', 'loss_grad'}


def test_plugin_task_kind_trains_and_evaluates(plugin_path, tmp_path):
    """A new kind (boundary) registered by the plugin: packed, padded,
    resized, flipped, trained and evaluated with no edit of mtlbox."""
    import numpy as np
    from mmengine.runner import Runner

    from mtlbox.datasets.transforms import MTLRandomFlip, MTLResize
    from mtlbox.structures import TASK_KINDS, MTLDataSample
    cfg = Config.fromfile(os.path.join(PLUGIN, 'configs',
                                       'boundary_synth.py'))
    from mtlbox.utils import check_config_types
    check_config_types(cfg)
    assert 'boundary' in TASK_KINDS
    assert isinstance(MTLDataSample.gt_boundary, property)
    # the geometric transforms move the new label with the image
    seg = np.zeros((6, 8), np.uint8)
    seg[:, 5:] = 2
    from mtl_plugin.boundary import seg_boundary
    results = dict(img=np.zeros((6, 8, 3), np.uint8),
                   gt_boundary_map=seg_boundary(seg))
    out = MTLRandomFlip(prob=1.0)(MTLResize((16, 12))(dict(results)))
    assert out['gt_boundary_map'].shape == (12, 16)
    np.testing.assert_array_equal(np.nonzero(out['gt_boundary_map'][0])[0],
                                  [6, 7])  # column 4 of 8 -> 8, 9 -> 15 - x
    for loader in ('train_dataloader', 'val_dataloader'):
        cfg[loader].update(batch_size=2, num_workers=0,
                           persistent_workers=False)
        cfg[loader].dataset.update(num_samples=4, img_size=(40, 56))
    cfg.model.backbone.out_indices = (2, 3)
    cfg.model.neck.in_channels = [256, 512]
    for head in cfg.model.heads.values():
        head.in_channels = [64, 64]
    cfg.train_cfg = dict(by_epoch=False, max_iters=2, val_interval=2)
    cfg.param_scheduler = []
    cfg.test_dataloader = cfg.val_dataloader
    cfg.work_dir = str(tmp_path)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=2)
    cfg.pop('custom_hooks', None)
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    assert 0 <= metrics['boundary/f1'] <= 1
    assert 'seg/mIoU' in metrics and 'depth/abs_rel' in metrics
    logs = runner.message_hub.get_scalar('train/boundary.loss_bce')
    assert np.isfinite(logs.current())
