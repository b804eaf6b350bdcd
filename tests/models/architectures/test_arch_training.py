"""Every architecture trains inside MultiTaskModel with seg + depth heads:
one step with EW (loss-level) and one with PCGrad (gradient-level, which
uses the shared/task-specific split)."""
import copy
import os.path as osp
import sys

import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.structures import PixelData

sys.path.insert(0, osp.dirname(__file__))
from _arch_cases import CASES, HEAD_CHANNELS  # noqa: E402

H = W = 32


def build_model(name, balancer):
    from mtlbox.models import MultiTaskModel
    arch, backbone, neck = CASES[name]
    ch = HEAD_CHANNELS[name]
    torch.manual_seed(0)
    return MultiTaskModel(
        backbone=backbone,
        neck=neck,
        architecture=arch,
        heads=dict(
            seg=dict(type='SegHead', in_channels=ch, num_classes=3,
                     channels=8),
            depth=dict(type='DepthHead', in_channels=ch, channels=8)),
        balancer=balancer,
        data_preprocessor=dict(type='MTLDataPreprocessor',
                               pad_size_divisor=32))


def make_batch(n=2, seed=0):
    from mtlbox.structures import MTLDataSample
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(n):
        inputs.append(torch.randint(0, 255, (3, H, W), generator=g,
                                    dtype=torch.uint8))
        s = MTLDataSample(metainfo=dict(img_shape=(H, W), ori_shape=(H, W),
                                        labeled_tasks=['seg', 'depth']))
        s.gt_sem_seg = PixelData(
            data=torch.randint(0, 3, (1, H, W), generator=g))
        s.gt_depth = PixelData(data=torch.rand(1, H, W, generator=g) + 1)
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.parametrize('name', list(CASES))
@pytest.mark.parametrize('balancer,steps', [('EW', 1), ('PCGrad', 1)])
def test_trains_inside_multitask_model(name, balancer, steps):
    model = build_model(name, dict(type=balancer))
    model.train()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.05))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    data = make_batch()
    for _ in range(steps):
        log = model.train_step(copy.deepcopy(data), optim)
        assert torch.isfinite(log['loss'])
        assert {'seg.loss_ce', 'depth.loss_l1'} <= set(log)
    changed = {n for n, p in model.named_parameters()
               if not torch.equal(p.detach(), before[n])}
    arch_params = [n for n, _ in model.architecture.named_parameters()]
    # every architecture parameter moved, and the heads
    assert {f'architecture.{n}' for n in arch_params} <= changed
    assert any(n.startswith('heads.seg.') for n in changed)
    assert any(n.startswith('heads.depth.') for n in changed)
    # the split covers every trainable parameter exactly once
    shared = {id(p) for p in model.shared_parameters()}
    specific = [{id(p) for p in model.task_parameters(t)}
                for t in model.tasks]
    assert not shared & specific[0] and not shared & specific[1]
    assert not specific[0] & specific[1]
    assert shared | specific[0] | specific[1] == {
        id(p) for p in model.parameters() if p.requires_grad}
    model.eval()
    with torch.no_grad():
        out = model(model.data_preprocessor(copy.deepcopy(data))['inputs'])
    assert out['seg'].shape[:2] == (2, 3)


def test_squadnet_model_split():
    """SquadNet + SquadSplit: the experts of every task group are shared
    parameters (the aggregation mixes all groups); the heads are the only
    task-specific parameters, and each head reads [its group, shared]."""
    model = build_model('SquadSplit', dict(type='EW'))
    backbone = model.backbone
    shared = {id(p) for p in model.shared_parameters()}
    for t in range(2):
        assert {id(p) for p in backbone.expert_parameters(t)} <= shared
    for task in model.tasks:
        assert {id(p) for p in model.task_parameters(task)} == {
            id(p) for p in model.heads[task].parameters()}
    x = torch.randn(1, 3, H, W)
    feats = model.extract_feat(x)
    per_task = model.architecture(feats, model.tasks)
    c = backbone.group_channels[2]  # level 2: groups of 8 channels
    last = feats[-1]
    torch.testing.assert_close(
        per_task['depth'][-1],
        torch.cat([last[:, c:2 * c], last[:, 2 * c:]], dim=1))
