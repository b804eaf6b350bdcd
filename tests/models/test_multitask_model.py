import copy

import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.structures import InstanceData, PixelData

from mtlbox.models import MultiTaskModel
from mtlbox.structures import MTLDataSample

H, W = 32, 32


def tiny_model(balancer=None, tasks=('seg', 'depth', 'normal')):
    heads = dict(
        seg=dict(type='SegHead', in_channels=[16, 16], num_classes=3,
                 channels=8),
        depth=dict(type='DepthHead', in_channels=[16, 16], channels=8),
        normal=dict(type='NormalHead', in_channels=[16, 16], channels=8),
        det=dict(type='ATSSDetHead', num_classes=2, in_channels=16,
                 feat_channels=8, strides=(16, 32), anchor_sizes=(12, 24),
                 topk=4))
    torch.manual_seed(0)
    return MultiTaskModel(
        backbone=dict(type='ResNet', depth=18, out_indices=(2, 3)),
        neck=dict(type='FPN', in_channels=[256, 512], out_channels=16),
        heads={t: heads[t] for t in tasks},
        balancer=balancer,
        data_preprocessor=dict(type='MTLDataPreprocessor',
                               pad_size_divisor=32))


def batch(labels, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for tasks in labels:
        inputs.append(torch.randint(0, 255, (3, H, W), generator=g,
                                    dtype=torch.uint8))
        s = MTLDataSample(metainfo=dict(img_shape=(H, W), ori_shape=(H, W),
                                        labeled_tasks=list(tasks)))
        if 'seg' in tasks:
            s.gt_sem_seg = PixelData(
                data=torch.randint(0, 3, (1, H, W), generator=g))
        if 'depth' in tasks:
            s.gt_depth = PixelData(data=torch.rand(1, H, W, generator=g) + 1)
        if 'normal' in tasks:
            n = torch.randn(3, H, W, generator=g)
            s.gt_normal = PixelData(data=n / n.norm(dim=0, keepdim=True))
        if 'det' in tasks:  # 1-3 boxes of 8-20 px
            k = int(torch.randint(1, 4, (1, ), generator=g))
            xy = torch.rand(k, 2, generator=g) * (W - 20)
            wh = 8 + torch.rand(k, 2, generator=g) * 12
            inst = InstanceData()
            inst.bboxes = torch.cat([xy, xy + wh], 1)
            inst.labels = torch.randint(0, 2, (k, ), generator=g)
            inst.ignore_flags = torch.zeros(k, dtype=torch.bool)
            s.gt_instances = inst
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def test_absent_task_is_missing_from_loss_dict():
    model = tiny_model()
    data = model.data_preprocessor(batch([['seg'], ['seg', 'depth']]), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert set(losses) == {'seg.loss_ce', 'depth.loss_l1'}


def test_loss_only_over_labelled_samples():
    """The depth loss of a batch equals the loss of its labelled sample
    alone: unlabelled samples contribute nothing."""
    model = tiny_model().eval()  # eval BN: per-sample independent
    full = batch([['seg'], ['seg', 'depth']])
    data = model.data_preprocessor(copy.deepcopy(full), True)
    both = model.loss(data['inputs'], data['data_samples'])['depth.loss_l1']
    one = dict(inputs=full['inputs'][1:], data_samples=full['data_samples'][1:])
    data = model.data_preprocessor(copy.deepcopy(one), True)
    alone = model.loss(data['inputs'], data['data_samples'])['depth.loss_l1']
    torch.testing.assert_close(both, alone)
    # and by hand: mean |pred - gt| over the sample's valid pixels
    feats = model.architecture(model.extract_feat(data['inputs']), ['depth'])
    head = model.heads['depth']
    out, _ = head.forward_train(feats['depth'], data['data_samples'])
    pred = head.loss_inputs(out)[0, 0]
    gt = data['data_samples'][0].gt_depth.data[0]
    torch.testing.assert_close(alone, (pred - gt).abs().mean())


def _grads_after_step(model, data, **wrapper_kw):
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.0),
                         **wrapper_kw)
    model.train_step(copy.deepcopy(data), optim)
    return {n: p.grad.clone() for n, p in model.named_parameters()
            if p.grad is not None}


def test_ew_train_step_equals_plain_sum_backward():
    data = batch([['seg', 'depth', 'normal'], ['seg', 'normal']])
    model = tiny_model()
    ref = copy.deepcopy(model)
    logs = model.train_step(copy.deepcopy(data),
                            OptimWrapper(torch.optim.SGD(model.parameters(),
                                                         lr=0.1)))
    assert {'seg.weight', 'depth.weight', 'normal.weight'} <= set(logs)
    # reference: one backward of the plain sum, then the same SGD step
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    d = ref.data_preprocessor(copy.deepcopy(data), True)
    total = sum(ref.loss(d['inputs'], d['data_samples']).values())
    total.backward()
    opt.step()
    for (n, p), (_, q) in zip(model.named_parameters(),
                              ref.named_parameters()):
        torch.testing.assert_close(p, q, msg=n)
    torch.testing.assert_close(logs['loss'], total.detach())


def test_gradient_engine_matches_backward_for_sum_aggregation():
    """With aggregate = sum of rows, the engine must reproduce the plain
    backward exactly: shared params get sum of task grads, task params their
    own task's grad (this pins the engine's bookkeeping)."""
    from mtlbox.balancers import Aggregation, BaseBalancer

    class SumGrads(BaseBalancer):
        needs = 'grads'

        def aggregate(self, grads, losses, tasks):
            return Aggregation(direction=grads.sum(0))

    data = batch([['seg', 'depth'], ['seg', 'normal']])
    model = tiny_model()
    model.train()
    ref = copy.deepcopy(model)
    model.balancer = SumGrads(model.tasks)
    g_engine = _grads_after_step(model, data)
    g_plain = _grads_after_step(ref, data)
    assert set(g_engine) == set(g_plain)
    for name in g_plain:
        torch.testing.assert_close(g_engine[name], g_plain[name], msg=name,
                                   rtol=1e-4, atol=1e-6)


def test_gradient_engine_respects_accumulation_and_clipping():
    from mtlbox.balancers import Aggregation, BaseBalancer

    class SumGrads(BaseBalancer):
        needs = 'grads'

        def aggregate(self, grads, losses, tasks):
            return Aggregation(direction=grads.sum(0))

    data = batch([['seg', 'depth'], ['depth', 'normal']])
    model = tiny_model()
    model.balancer = SumGrads(model.tasks)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1.0),
                         accumulative_counts=2, clip_grad=dict(max_norm=0.01))
    optim.initialize_count_status(model, 0, 4)
    before = [p.detach().clone() for p in model.parameters()]
    model.train_step(copy.deepcopy(data), optim)  # accumulate only
    assert all(torch.equal(a, p) for a, p in zip(before, model.parameters()))
    model.train_step(copy.deepcopy(data), optim)  # now step, clipped
    delta = torch.sqrt(sum(((a - p)**2).sum()
                           for a, p in zip(before, model.parameters())))
    assert 0 < delta <= 0.01 + 1e-6  # lr 1 x clipped norm 0.01


def test_pcgrad_through_model_changes_parameters():
    data = batch([['seg', 'depth', 'normal'], ['seg', 'depth', 'normal']])
    model = tiny_model(balancer=dict(type='PCGrad'))
    before = [p.detach().clone() for p in model.parameters()]
    logs = model.train_step(
        data, OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))
    assert torch.isfinite(logs['loss'])
    changed = sum(not torch.equal(a, p)
                  for a, p in zip(before, model.parameters()))
    assert changed > 10


def _nan_depth_batch():
    data = batch([['depth', 'seg'], ['depth', 'seg']])
    data['data_samples'][0].gt_depth.data[0, 0, 0] = float('nan')
    return data


def test_nonfinite_step_is_skipped_without_any_state_change():
    model = tiny_model(balancer=dict(type='EW'),
                       tasks=('seg', 'depth'))
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=0.1))
    model.train_step(batch([['depth', 'seg'], ['seg']]), optim)  # a good step
    params = copy.deepcopy(model.state_dict())
    opt_state = copy.deepcopy(optim.state_dict())
    logs = model.train_step(_nan_depth_batch(), optim)
    assert model.nonfinite_steps.item() == 1
    assert logs['nonfinite_steps'] == 1
    for key, value in model.state_dict().items():
        if key.startswith('nonfinite'):
            continue
        torch.testing.assert_close(value, params[key], msg=key, rtol=0, atol=0)
    assert str(optim.state_dict()) == str(opt_state)
    # a good step resets the streak but keeps the total
    model.train_step(batch([['depth', 'seg'], ['seg']]), optim)
    assert model.nonfinite_streak.item() == 0
    assert model.nonfinite_steps.item() == 1


def test_consecutive_nonfinite_steps_stop_training_naming_the_task():
    model = tiny_model(tasks=('seg', 'depth'))
    model.max_consecutive_nonfinite = 3
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    model.train_step(_nan_depth_batch(), optim)
    model.train_step(_nan_depth_batch(), optim)
    with pytest.raises(FloatingPointError, match=r"\['depth'\].*3 bad step"):
        model.train_step(_nan_depth_batch(), optim)


def test_raise_policy_stops_at_first_bad_step():
    model = tiny_model(tasks=('seg', 'depth'))
    model.nonfinite_loss = 'raise'
    with pytest.raises(FloatingPointError, match='depth'):
        model.train_step(
            _nan_depth_batch(),
            OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))


def test_predict_fills_each_field_at_original_size():
    model = tiny_model().eval()
    data = model.data_preprocessor(batch([['seg'], ['depth']]), False)
    out = model.predict(data['inputs'], data['data_samples'])
    for s in out:
        assert s.pred_sem_seg.data.shape == (1, H, W)
        assert s.pred_depth.data.shape == (1, H, W)
        assert (s.pred_depth.data > 0).all()
        norms = s.pred_normal.data.norm(dim=0)
        torch.testing.assert_close(norms, torch.ones_like(norms))


@pytest.mark.parametrize('balancer', [dict(type='EW'), dict(type='PCGrad')])
def test_cpu_bf16_autocast_trains_both_paths(balancer):
    from mtlbox.engine import CPUAmpOptimWrapper
    model = tiny_model(balancer=balancer)
    seen = []
    model.backbone.stem[0].register_forward_hook(
        lambda m, i, o: seen.append(o.dtype))
    optim = CPUAmpOptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    before = [p.detach().clone() for p in model.parameters()]
    logs = model.train_step(batch([['seg', 'depth', 'normal']] * 2), optim)
    assert seen == [torch.bfloat16]
    assert torch.isfinite(logs['loss'])
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert sum(not torch.equal(a, p)
               for a, p in zip(before, model.parameters())) > 10


def test_accumulating_two_micro_batches_equals_one_double_batch():
    """Linear aggregation (sum of task gradients) over k=2 micro-batches
    gives the gradient of one batch twice as large."""
    from mtlbox.balancers import Aggregation, BaseBalancer

    class SumGrads(BaseBalancer):
        needs = 'grads'

        def aggregate(self, grads, losses, tasks):
            return Aggregation(direction=grads.sum(0))

    def frozen_bn(model):
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.eval()
        return model

    first = batch([['seg', 'depth', 'normal']] * 2, seed=1)
    second = batch([['seg', 'depth', 'normal']] * 2, seed=2)
    whole = dict(inputs=first['inputs'] + second['inputs'],
                 data_samples=first['data_samples'] + second['data_samples'])
    micro = frozen_bn(tiny_model())
    micro.balancer = SumGrads(micro.tasks)
    single = copy.deepcopy(micro)
    optim = OptimWrapper(torch.optim.SGD(micro.parameters(), lr=0.1),
                         accumulative_counts=2)
    optim.initialize_count_status(micro, 0, 2)
    micro.train_step(copy.deepcopy(first), optim)
    micro.train_step(copy.deepcopy(second), optim)
    single.train_step(copy.deepcopy(whole), OptimWrapper(
        torch.optim.SGD(single.parameters(), lr=0.1)))
    for (name, a), (_, b) in zip(micro.named_parameters(),
                                 single.named_parameters()):
        torch.testing.assert_close(a, b, msg=name, rtol=1e-4, atol=1e-6)
