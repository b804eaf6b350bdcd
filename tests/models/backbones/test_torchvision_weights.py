"""``weights='<torchvision enum>'``: the file in torchvision's cache
(``$TORCH_HOME/hub/checkpoints/<basename of Weights.url>``), never a
download; a missing file names the exact path to put it at."""
import os.path as osp

import pytest
import torch
import torchvision

from mtlbox.registry import MODELS


def _fake_cache(tmp_path, monkeypatch, weights, net):
    """A TORCH_HOME holding ``net``'s state dict under the file name
    torchvision would download ``weights`` to (worked out here from the
    URL, independently of mtlbox)."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    url = torchvision.models.get_weight(weights).url
    path = tmp_path / 'hub' / 'checkpoints' / url.rsplit('/', 1)[-1]
    path.parent.mkdir(parents=True)
    torch.manual_seed(3)
    for p in net.state_dict().values():
        if p.is_floating_point():
            p.copy_(torch.randn_like(p))
    state = net.state_dict()
    torch.save(state, path)
    return path, state


def test_resnet_loads_the_cached_torchvision_file(tmp_path, monkeypatch):
    weights = 'ResNet18_Weights.IMAGENET1K_V1'
    path, state = _fake_cache(tmp_path, monkeypatch, weights,
                              torchvision.models.resnet18())
    assert path.name == 'resnet18-f37072fd.pth'
    net = MODELS.build(dict(type='ResNet', depth=18, weights=weights))
    net.init_weights()
    own = net.state_dict()
    assert torch.equal(own['stem.0.weight'], state['conv1.weight'])
    assert torch.equal(own['stem.1.running_var'], state['bn1.running_var'])
    assert torch.equal(own['layers.3.1.conv2.weight'],
                       state['layer4.1.conv2.weight'])


def test_efficientnet_v2_loads_the_cached_torchvision_file(tmp_path,
                                                           monkeypatch):
    weights = 'EfficientNet_V2_S_Weights.IMAGENET1K_V1'
    path, state = _fake_cache(tmp_path, monkeypatch, weights,
                              torchvision.models.efficientnet_v2_s())
    assert path.name == 'efficientnet_v2_s-dd5fe13b.pth'
    net = MODELS.build(dict(type='EfficientNetV2', arch='s', weights=weights))
    net.init_weights()
    own = net.state_dict()
    assert own  # every kept key equals the file's tensor
    for key, value in own.items():
        assert torch.equal(value, state[key]), key


def test_missing_file_names_the_path(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    net = MODELS.build(dict(type='MobileNetV3', arch='small',
                            weights='MobileNet_V3_Small_Weights.IMAGENET1K_V1'))
    want = osp.join(str(tmp_path), 'hub', 'checkpoints',
                    'mobilenet_v3_small-047dcff4.pth')
    with pytest.raises(FileNotFoundError) as err:
        net.init_weights()
    assert want in str(err.value) and 'never downloads' in str(err.value)
    assert not (tmp_path / 'hub' / 'checkpoints').exists()


def test_enum_of_another_architecture_is_refused():
    with pytest.raises(ValueError, match='ResNet50_Weights'):
        MODELS.build(dict(type='ResNet', depth=50,
                          weights='ResNet18_Weights.IMAGENET1K_V1'))
    with pytest.raises(ValueError, match='not a torchvision weight enum'):
        MODELS.build(dict(type='EfficientNetV2', arch='s',
                          weights='EfficientNet_V2_S_Weights.IMAGENET9K'))


def test_weights_and_pretrained_init_cfg_conflict(tmp_path, monkeypatch):
    weights = 'ResNet18_Weights.IMAGENET1K_V1'
    path, _ = _fake_cache(tmp_path, monkeypatch, weights,
                          torchvision.models.resnet18())
    net = MODELS.build(dict(type='ResNet', depth=18, weights=weights,
                            init_cfg=dict(type='Pretrained',
                                          checkpoint=str(path))))
    with pytest.raises(ValueError, match='keep one'):
        net.init_weights()
