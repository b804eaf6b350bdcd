"""ResNet / EfficientNet-V2 / MobileNet-V2/V3: shapes, strides, channels,
freezing, and local pretrained weights."""
import math

import pytest
import torch
import torchvision
from torch import nn

from mtlbox.models.backbones import (EfficientNetV2, MobileNetV2, MobileNetV3,
                                     PretrainedWeightsError, ResNet)

H, W = 65, 47  # odd sizes: every stride-2 conv rounds up


def _size(n, stride):
    for _ in range(int(math.log2(stride))):
        n = (n + 1) // 2
    return n


CASES = [
    # (constructor, kwargs, strides, channels)
    (ResNet, dict(depth=18, out_indices=(0, 1, 2, 3)), (4, 8, 16, 32),
     (64, 128, 256, 512)),
    (ResNet, dict(depth=50, out_indices=(1, 3),
                  dilations=(False, True, True)), (8, 8), (512, 2048)),
    (EfficientNetV2, dict(arch='s', out_indices=(0, 1, 2, 3)),
     (4, 8, 16, 32), (48, 64, 160, 256)),
    (MobileNetV2, dict(), (4, 8, 16, 32), (24, 32, 96, 320)),
    (MobileNetV3, dict(arch='large'), (4, 8, 16, 32), (24, 40, 112, 160)),
    (MobileNetV3, dict(arch='small'), (4, 8, 16, 32), (16, 24, 48, 96)),
]


@pytest.mark.parametrize('cls,kwargs,strides,channels', CASES,
                         ids=lambda v: getattr(v, '__name__', None))
def test_shapes_strides_channels(cls, kwargs, strides, channels):
    torch.manual_seed(0)
    model = cls(**kwargs).eval()
    assert model.out_channels == list(channels)
    with torch.no_grad():
        outs = model(torch.randn(1, 3, H, W))
    assert [tuple(o.shape) for o in outs] == [
        (1, c, _size(H, s), _size(W, s)) for s, c in zip(strides, channels)
    ]


def test_resnet50_output_stride_8_is_dilated():
    model = ResNet(depth=50, out_indices=(3, ), dilations=(False, True, True))
    convs = [m for m in model.layers[3].modules()
             if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
    assert {c.dilation for c in convs[1:]} == {(4, 4)}
    assert all(c.stride == (1, 1) for c in convs)


def test_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match='dilations'):
        ResNet(depth=18, dilations=(False, True, True))
    with pytest.raises(ValueError, match='out_indices'):
        MobileNetV2(out_indices=(4, ))
    with pytest.raises(ValueError, match="arch='xl'"):
        EfficientNetV2(arch='xl')


@pytest.mark.parametrize('cls,kwargs', [(ResNet, dict(depth=18)),
                                        (MobileNetV3, dict(arch='small'))])
def test_frozen_stages_and_norm_eval(cls, kwargs):
    model = cls(frozen_stages=2, norm_eval=False, **kwargs)
    model.train()
    modules = model.stage_modules()
    for stage in modules[:3]:  # stem + stages 0, 1
        assert all(not p.requires_grad for p in stage.parameters())
        assert all(not m.training for m in stage.modules()
                   if isinstance(m, nn.BatchNorm2d))
    for stage in modules[3:]:
        assert all(p.requires_grad for p in stage.parameters())
        assert all(m.training for m in stage.modules()
                   if isinstance(m, nn.BatchNorm2d))
    # frozen stages give no gradient and keep their BN statistics
    bn = next(m for m in modules[0].modules() if isinstance(m, nn.BatchNorm2d))
    before = bn.running_mean.clone()
    sum(o.sum() for o in model(torch.randn(2, 3, 32, 32))).backward()
    torch.testing.assert_close(bn.running_mean, before)
    assert all(p.grad is None for p in modules[0].parameters())
    norm_eval = cls(norm_eval=True, **kwargs).train()
    assert not any(m.training for m in norm_eval.modules()
                   if isinstance(m, nn.BatchNorm2d))


def _tv_features(name, net, x):
    """Reference outputs from the torchvision model itself."""
    if name == 'resnet18':
        x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
        outs = []
        for layer in (net.layer1, net.layer2, net.layer3, net.layer4):
            x = layer(x)
            outs.append(x)
        return outs[1:]
    ends = dict(efficientnet_v2_s=(3, 5, 6), mobilenet_v2=(6, 13, 17),
                mobilenet_v3_small=(3, 8, 11))[name]
    outs = []
    for i, block in enumerate(net.features[:ends[-1] + 1]):
        x = block(x)
        if i in ends:
            outs.append(x)
    return outs


@pytest.mark.parametrize('name,cfg', [
    ('resnet18', dict(type='ResNet', depth=18, out_indices=(1, 2, 3))),
    ('efficientnet_v2_s', dict(type='EfficientNetV2', arch='s',
                               out_indices=(1, 2, 3))),
    ('mobilenet_v2', dict(type='MobileNetV2', out_indices=(1, 2, 3))),
    ('mobilenet_v3_small', dict(type='MobileNetV3', arch='small',
                                out_indices=(1, 2, 3))),
])
def test_pretrained_round_trip(tmp_path, name, cfg):
    """A torchvision state dict saved to a local file loads (through the
    registry and init_weights) and gives the torchvision outputs."""
    from mtlbox.registry import MODELS
    torch.manual_seed(1)
    net = getattr(torchvision.models, name)(weights=None).eval()
    with torch.no_grad():  # non-trivial BN statistics
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    path = tmp_path / f'{name}.pth'
    torch.save(net.state_dict(), path)
    torch.manual_seed(2)
    model = MODELS.build(
        dict(cfg, init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    model.init_weights()
    model.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        ours, ref = model(x), _tv_features(name, net, x)
    assert len(ours) == 3
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b)


def test_pretrained_from_mmengine_checkpoint(tmp_path):
    net = torchvision.models.mobilenet_v3_small(weights=None)
    src = MobileNetV3(arch='small')
    src.load_state_dict(
        {k: v for k, v in net.state_dict().items() if k in src.state_dict()})
    path = tmp_path / 'epoch_1.pth'
    torch.save(dict(meta={}, state_dict={
        f'backbone.{k}': v for k, v in src.state_dict().items()}), path)
    model = MobileNetV3(arch='small',
                        init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    for k, v in src.state_dict().items():
        torch.testing.assert_close(model.state_dict()[k], v)


def test_wrong_pretrained_file_is_rejected(tmp_path):
    path = tmp_path / 'r18.pth'
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), path)
    model = MobileNetV2(init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(PretrainedWeightsError,
                       match=r'r18\.pth does not fit MobileNetV2.*missing'):
        model.init_weights()
    r34 = ResNet(depth=34, init_cfg=dict(type='Pretrained',
                                         checkpoint=str(path)))
    with pytest.raises(PretrainedWeightsError, match='missing keys'):
        r34.init_weights()
    small = tmp_path / 'small.pth'
    net = torchvision.models.mobilenet_v3_small(weights=None)
    torch.save(net.state_dict(), small)
    large = MobileNetV3(arch='large', init_cfg=dict(type='Pretrained',
                                                    checkpoint=str(small)))
    with pytest.raises(PretrainedWeightsError, match='does not fit'):
        large.init_weights()


def test_missing_pretrained_file_says_no_download(tmp_path):
    model = ResNet(init_cfg=dict(type='Pretrained',
                                 checkpoint=str(tmp_path / 'none.pth')))
    with pytest.raises(FileNotFoundError, match='never downloads'):
        model.init_weights()


def test_stages_after_out_indices_are_not_built(tmp_path):
    """No parameter without gradient: a backbone cut at stage 1 has no
    later stages, and a full torchvision file still loads into it."""
    full = MobileNetV3(arch='small')
    cut = MobileNetV3(arch='small', out_indices=(0, 1))
    assert len(cut.features) == 4 and len(cut.stage_modules()) == 3
    assert cut.stage_channels == [16, 16, 24]
    assert sum(p.numel() for p in cut.parameters()) < sum(
        p.numel() for p in full.parameters())
    r18 = ResNet(depth=18, out_indices=(1, ))
    assert len(r18.layers) == 2
    path = tmp_path / 'mbv3s.pth'
    net = torchvision.models.mobilenet_v3_small(weights=None)
    torch.save(net.state_dict(), path)
    cut = MobileNetV3(arch='small', out_indices=(0, 1),
                      init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    cut.init_weights()
    torch.testing.assert_close(cut.features[3].block[0][0].weight,
                               net.features[3].block[0][0].weight)
