"""ResNet backbones built from torchvision, with local pretrained weights."""
from typing import Sequence

import torch
import torchvision
from mmengine.model import BaseModule
from torch import nn

from mtlbox.registry import MODELS

_ARCHS = {18: 'resnet18', 34: 'resnet34', 50: 'resnet50', 101: 'resnet101'}


@MODELS.register_module()
class ResNet(BaseModule):
    """torchvision ResNet returning the maps of the chosen stages.

    Stage i (0..3) has stride ``4 * 2**i`` (or less with dilation) and
    ``64 * 2**i`` channels (x4 for depth >= 50).

    Args:
        depth: 18, 34, 50 or 101.
        out_indices: stages to return, e.g. ``(1, 2, 3)`` for strides 8/16/32.
        dilations: per-stage dilation of stages 2 and 3 as
            ``replace_stride_with_dilation`` (depth >= 50 only), e.g.
            ``(False, True, True)`` for output stride 8 (DeepLab).
        frozen_stages: stages (stem = 0, ..., 4) whose parameters are frozen;
            -1 freezes nothing.
        norm_eval: keep BatchNorm in eval mode while training.
        init_cfg: e.g. ``dict(type='Pretrained', checkpoint='r18.pth')`` with
            a local torchvision state dict; nothing is downloaded.
    """

    def __init__(self,
                 depth: int = 18,
                 out_indices: Sequence[int] = (1, 2, 3),
                 dilations: Sequence[bool] = (False, False, False),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if depth not in _ARCHS:
            raise ValueError(f'ResNet depth={depth} unsupported; choose one '
                             f'of {sorted(_ARCHS)}')
        if any(dilations) and depth < 50:
            raise ValueError('ResNet dilations need depth >= 50 (torchvision '
                             'BasicBlock has no dilation)')
        if not out_indices or not set(out_indices) <= {0, 1, 2, 3}:
            raise ValueError(f'ResNet out_indices={out_indices} must be a '
                             'non-empty subset of (0, 1, 2, 3)')
        net = getattr(torchvision.models, _ARCHS[depth])(
            weights=None, replace_stride_with_dilation=list(dilations))
        self.stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
        self.layers = nn.ModuleList(
            [net.layer1, net.layer2, net.layer3, net.layer4])
        self.out_indices = tuple(out_indices)
        expansion = 4 if depth >= 50 else 1
        self.out_channels = [64 * 2**i * expansion for i in self.out_indices]
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self._freeze()

    def _freeze(self):
        stages = [self.stem] + list(self.layers)
        for stage in stages[:self.frozen_stages + 1]:
            stage.eval()
            for p in stage.parameters():
                p.requires_grad = False

    def forward(self, x):
        x = self.stem(x)
        outs = []
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i in self.out_indices:
                outs.append(x)
        return outs

    def train(self, mode=True):
        super().train(mode)
        self._freeze()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

    def init_weights(self):
        if self.init_cfg and self.init_cfg.get('type') == 'Pretrained':
            load_local_weights(self, self.init_cfg['checkpoint'])
            self._is_init = True
        else:
            super().init_weights()


def load_local_weights(module: nn.Module, path: str) -> None:
    """Load a torchvision-format state dict from ``path`` into ``module``.

    Keys ``conv1``/``bn1``/``layerN`` of torchvision are mapped onto
    ``stem``/``layers``; ``fc`` is dropped. Missing keys are an error.
    """
    import os.path as osp
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'pretrained checkpoint {path} not found; mtlbox never downloads '
            'weights: put a local file there or remove init_cfg')
    state = torch.load(path, map_location='cpu', weights_only=True)
    state = state.get('state_dict', state)
    renamed = {}
    for key, value in state.items():
        if key.startswith('fc.'):
            continue
        for src, dst in (('conv1.', 'stem.0.'), ('bn1.', 'stem.1.')):
            if key.startswith(src):
                key = dst + key[len(src):]
        if key.startswith('layer'):
            idx = int(key[5]) - 1
            key = f'layers.{idx}' + key[6:]
        renamed[key] = value
    missing, unexpected = module.load_state_dict(renamed, strict=False)
    if missing:
        raise KeyError(f'{path} lacks {len(missing)} backbone weights, e.g. '
                       f'{missing[:3]}; is it a torchvision ResNet of the '
                       'same depth?')
