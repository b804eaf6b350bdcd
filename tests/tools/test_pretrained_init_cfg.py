"""``backbone.init_cfg=dict(type='Pretrained', checkpoint=PATH)`` through
tools/train.py (issue #13.2): the config check accepts it and the backbone
starts from the file's tensors."""
import os
import subprocess
import sys

import torch
import torchvision

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CONFIG = '''
_base_ = [{base!r}]
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(num_samples=4, img_size=(32, 32)))
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                      dataset=dict(num_samples=4, img_size=(32, 32)))
test_dataloader = val_dataloader
train_cfg = dict(val_interval=1)
'''


def test_train_loads_pretrained_backbone(tmp_path):
    torch.manual_seed(3)
    weights = torchvision.models.resnet18().state_dict()
    path = tmp_path / 'resnet18.pth'
    torch.save(weights, path)
    config = tmp_path / 'cfg.py'
    config.write_text(CONFIG.format(
        base=os.path.join(ROOT, 'configs/synth/hps_r18_ew_synth.py')))
    work = tmp_path / 'work'
    # lr=0 and BatchNorm in eval mode: the one training step changes no
    # backbone tensor, so the checkpoint holds what init_weights loaded
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', str(config), '--work-dir',
         str(work), '--cfg-options', 'max_epochs=1',
         'model.backbone.init_cfg.type=Pretrained',
         f'model.backbone.init_cfg.checkpoint={path}',
         'model.backbone.norm_eval=True', 'optim_wrapper.optimizer.lr=0.0'],
        cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT),
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    from mtlbox.compat import safe_load
    state = safe_load(str(work / 'epoch_1.pth'),
                      map_location='cpu')['state_dict']
    from mtlbox.models.backbones import ResNet
    convert = ResNet(depth=18, out_indices=(1, 2, 3)).convert_pretrained_key
    compared = 0
    for key, value in weights.items():
        if key.startswith('fc.'):
            continue  # the classifier is not part of the backbone
        torch.testing.assert_close(state['backbone.' + convert(key)], value,
                                   rtol=0, atol=0, msg=key)
        compared += 1
    assert compared == len(weights) - 2


def test_init_cfg_lists_and_prefix_on_built_backbones(tmp_path):
    """mmengine's forms, built directly: other initializers first, then
    the file (a whole-model checkpoint under ``prefix``)."""
    from mtlbox.models.backbones import MLP, ResNet
    torch.manual_seed(4)
    weights = torchvision.models.resnet18().state_dict()
    convert = ResNet(depth=18, out_indices=(1, 2, 3)).convert_pretrained_key
    whole = {'backbone.' + convert(k): v for k, v in weights.items()
             if not k.startswith('fc.')}
    whole['heads.seg.conv.weight'] = torch.zeros(1)  # not the backbone's
    path = tmp_path / 'epoch_1.pth'
    torch.save(dict(state_dict=whole, meta={}), path)
    backbone = ResNet(depth=18, out_indices=(1, 2, 3), init_cfg=dict(
        type='Pretrained', checkpoint=str(path), prefix='backbone.'))
    backbone.init_weights()
    for key, value in backbone.state_dict().items():
        torch.testing.assert_close(value, whole['backbone.' + key], rtol=0,
                                   atol=0, msg=key)
    # a list with a torchvision file: its keys are renamed and its
    # classifier dropped as for the dict form (mmengine's own loader would
    # skip the renamed keys without a word)
    torch.save(weights, tmp_path / 'resnet18.pth')
    backbone = ResNet(depth=18, out_indices=(1, 2, 3), init_cfg=[
        dict(type='Kaiming', layer='Conv2d'),
        dict(type='Pretrained', checkpoint=str(tmp_path / 'resnet18.pth'))])
    backbone.init_weights()
    own = backbone.state_dict()
    for key, value in weights.items():
        if not key.startswith('fc.'):
            assert torch.equal(own[convert(key)], value), key

    mlp = MLP(in_dim=8, hidden=(6, 4))
    torch.save(mlp.state_dict(), tmp_path / 'mlp.pth')
    other = MLP(in_dim=8, hidden=(6, 4), init_cfg=[
        dict(type='Normal', std=0.1, layer='Linear'),
        dict(type='Pretrained', checkpoint=str(tmp_path / 'mlp.pth'))])
    other.init_weights()
    for key, value in mlp.state_dict().items():
        assert torch.equal(other.state_dict()[key], value), key
