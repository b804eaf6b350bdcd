"""Cross-stitch: initial alphas, the linear combination by hand, the
learning-rate multiplier through mmengine's custom_keys, per-task columns."""
import pytest
import torch

from mtlbox.models.architectures import CrossStitch

COLUMN = dict(type='ResNet', depth=18, out_indices=(0, ))


def test_initial_alphas():
    arch = CrossStitch(COLUMN, tasks=['a', 'b', 'c'], mix_stages=(0, 1))
    assert len(arch.stitch_alphas) == 2
    expected = torch.tensor([[0.8, 0.05, 0.05], [0.05, 0.8, 0.05],
                             [0.05, 0.05, 0.8]])
    for alpha in arch.stitch_alphas:
        torch.testing.assert_close(alpha.data, expected)
    wide = CrossStitch(COLUMN, tasks=['a', 'b'], mix_stages=(1, ),
                       channel_wise=True)
    assert wide.stitch_alphas[0].shape == (2, 2, 64)
    assert torch.all(wide.stitch_alphas[0][0, 0] == 0.8)
    assert torch.all(wide.stitch_alphas[0][0, 1] == 0.05)


def test_columns_are_independent_copies():
    arch = CrossStitch(COLUMN, tasks=['a', 'b'])
    pa = dict(arch.columns['a'].named_parameters())
    pb = dict(arch.columns['b'].named_parameters())
    assert pa.keys() == pb.keys()
    assert all(pa[k] is not pb[k] for k in pa)


@pytest.mark.parametrize('channel_wise', [False, True])
def test_output_is_the_hand_computed_combination(channel_wise):
    """Stem -> unit -> stage 0 -> unit, computed element by element."""
    torch.manual_seed(0)
    tasks = ['a', 'b', 'c']
    arch = CrossStitch(COLUMN, tasks=tasks, mix_stages=(0, 1),
                       channel_wise=channel_wise).eval()
    with torch.no_grad():
        for alpha in arch.stitch_alphas:
            alpha.uniform_(-1, 1)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        out = arch([x], tasks)
        a0, a1 = [a.detach() for a in arch.stitch_alphas]

        def unit(alpha, maps, t):
            total = 0
            for s, m in enumerate(maps):
                w = alpha[t, s]
                total = total + (w[None, :, None, None] * m
                                 if channel_wise else w * m)
            return total

        stems = [arch.columns[t].stem(x) for t in tasks]
        mixed = [unit(a0, stems, t) for t in range(3)]
        stage0 = [arch.columns[t].layers[0](m) for t, m in zip(tasks, mixed)]
        expected = [unit(a1, stage0, t) for t in range(3)]
    for t, task in enumerate(tasks):
        assert len(out[task]) == 1
        torch.testing.assert_close(out[task][0], expected[t])


def test_only_requested_tasks_are_returned_but_all_columns_run():
    arch = CrossStitch(COLUMN, tasks=['a', 'b']).eval()
    x = torch.randn(1, 3, 32, 32)
    both = arch([x], ['a', 'b'])
    one = arch([x], ['b'])
    assert list(one) == ['b']
    torch.testing.assert_close(one['b'][0], both['b'][0])


def test_lr_multiplier_through_custom_keys():
    """paramwise_cfg custom_keys={'stitch_alphas': lr_mult=100} gives the
    alphas 100x the base learning rate and leaves the columns alone."""
    from mmengine.optim import DefaultOptimWrapperConstructor

    from mtlbox.models import MultiTaskModel
    model = MultiTaskModel(
        backbone=dict(type='ImageInput'),
        architecture=dict(type='CrossStitch', backbone=COLUMN),
        heads=dict(seg=dict(type='SegHead', in_channels=[64], num_classes=3,
                            channels=8)))
    constructor = DefaultOptimWrapperConstructor(
        dict(type='OptimWrapper',
             optimizer=dict(type='SGD', lr=0.01, weight_decay=1e-4)),
        paramwise_cfg=dict(custom_keys={
            'stitch_alphas': dict(lr_mult=100, decay_mult=0)}))
    optim = constructor(model)
    alpha_ids = {id(p) for p in model.architecture.stitch_alphas}
    lrs, decays = {}, {}
    for group in optim.optimizer.param_groups:
        for p in group['params']:
            lrs[id(p)] = group['lr']
            decays[id(p)] = group['weight_decay']
    assert [lrs[i] for i in alpha_ids] == [pytest.approx(1.0)]
    assert [decays[i] for i in alpha_ids] == [0]
    others = {lr for i, lr in lrs.items() if i not in alpha_ids}
    assert others == {0.01}


def test_needs_image_input():
    arch = CrossStitch(COLUMN, tasks=['a', 'b'])
    with pytest.raises(ValueError, match="ImageInput"):
        arch([torch.randn(1, 8, 4, 4), torch.randn(1, 8, 2, 2)], ['a'])
    with pytest.raises(TypeError, match='StagedBackbone'):
        CrossStitch(dict(type='ImageInput'), tasks=['a', 'b'])
    with pytest.raises(ValueError, match='mix_stages'):
        CrossStitch(COLUMN, tasks=['a', 'b'], mix_stages=(5, ))


def test_pretrained_columns_load_through_model_init_weights(tmp_path):
    import torchvision

    from mtlbox.models import MultiTaskModel
    net = torchvision.models.resnet18(weights=None)
    path = tmp_path / 'r18.pth'
    torch.save(net.state_dict(), path)
    column = dict(COLUMN, init_cfg=dict(type='Pretrained',
                                        checkpoint=str(path)))
    model = MultiTaskModel(
        backbone=dict(type='ImageInput'),
        architecture=dict(type='CrossStitch', backbone=column),
        heads=dict(seg=dict(type='SegHead', in_channels=[64], num_classes=3,
                            channels=8),
                   depth=dict(type='DepthHead', in_channels=[64],
                              channels=8)))
    model.init_weights()
    for task in ('seg', 'depth'):
        torch.testing.assert_close(
            model.architecture.columns[task].stem[0].weight, net.conv1.weight)
