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
