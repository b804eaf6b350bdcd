"""The base of the backbones over torchvision's ``features`` sequences
(EfficientNet-V2, MobileNet-V2/V3), cut into stages by stride."""
from typing import Tuple

from torch import nn

from .base_backbone import StagedBackbone


class _FeatureStages(nn.Module):
    """A stage: blocks ``features[start:end]`` run in order (no copies, the
    modules stay registered under ``features`` so torchvision keys load)."""

    def __init__(self, features: nn.Sequential, start: int, end: int):
        super().__init__()
        # a plain list: the blocks are owned by ``features``
        self._blocks = [features[i] for i in range(start, end)]

    def forward(self, x):
        for block in self._blocks:
            x = block(x)
        return x

    def parameters(self, recurse: bool = True):
        for block in self._blocks:
            yield from block.parameters(recurse)

    def modules(self):
        for block in self._blocks:
            yield from block.modules()

    def train(self, mode: bool = True):
        for block in self._blocks:
            block.train(mode)
        return self


class TorchvisionFeatures(StagedBackbone):
    """``features[bounds[0]:bounds[1]]`` is the stem, ``features[bounds[i+1]:
    bounds[i+2]]`` stage i; the part after ``bounds[-1]`` is dropped."""

    ignored_prefixes: Tuple[str, ...] = ('classifier.', )

    def _build(self, net, bounds, stage_channels, out_indices, frozen_stages,
               norm_eval, with_cp=False, weights=None):
        last = self._check_out_indices(out_indices, len(bounds) - 2)[-1]
        bounds = bounds[:last + 3]
        stage_channels = stage_channels[:last + 2]
        self.features = nn.Sequential(*list(net.features)[:bounds[-1]])
        self.ignored_prefixes = ('classifier.', ) + tuple(
            f'features.{i}.' for i in range(bounds[-1], len(net.features)))
        self._bounds = tuple(bounds)
        self.stage_channels = list(stage_channels)
        self._setup(out_indices, frozen_stages, norm_eval, with_cp)
        self._set_weights(weights)

    def stage_modules(self):
        b = self._bounds
        return [_FeatureStages(self.features, b[i], b[i + 1])
                for i in range(len(b) - 1)]
