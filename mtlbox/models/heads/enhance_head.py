"""Underwater image enhancement head."""
from typing import Optional

import torch
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .base_dense_head import BaseDenseHead


@MODELS.register_module()
class EnhanceHead(BaseDenseHead):
    """Predicts the clean RGB image in [0, 1] [B, 3, H, W] from the shared
    features, as a residual over the (degraded) input image by default:

    - ``residual=True``: ``clean = x + r``, ``x`` the input image in [0, 1]
      (RGB, the preprocessor's normalisation undone by the model, which
      hands it over because this head sets ``needs_input_image``) and ``r``
      the head's output; the final conv starts at zero so an untrained head
      returns its input. The loss sees ``x + r`` unclamped (so gradients
      never vanish); predictions are clamped to [0, 1].
    - ``residual=False``: ``clean = sigmoid(r)``, the image predicted from
      the features alone.

    Trained against ``gt_clean_img`` (float RGB in [0, 1], made by
    ``MTLDataPreprocessor``) with L1 (``PixelL1Loss``) plus optional SSIM
    (``SSIMLoss``) over the pixels inside each image's ``img_shape``
    (padding excluded). Fills ``pred_clean_img`` [3, H, W].

    Config::

        enhance=dict(type='EnhanceHead', in_channels=[64] * 4,
                     loss=[dict(type='PixelL1Loss'),
                           dict(type='SSIMLoss', loss_weight=0.5)])
    """

    gt_field = 'gt_clean_img'
    pred_field = 'pred_clean_img'
    loss_name = 'loss_l1'

    def __init__(self, in_channels, channels=64,
                 loss=dict(type='PixelL1Loss'), residual: bool = True,
                 **kwargs):
        super().__init__(in_channels, 3, loss, channels, **kwargs)
        self.residual = residual
        self.needs_input_image = residual
        if residual:
            last = [m for m in self.predictor.modules()
                    if isinstance(m, nn.Conv2d)][-1]
            nn.init.zeros_(last.weight)
            if last.bias is not None:
                nn.init.zeros_(last.bias)

    def combine_input(self, out: Tensor, inputs: Optional[Tensor]) -> Tensor:
        if not self.residual:
            return out
        if inputs is None:
            raise ValueError(
                f'EnhanceHead of task {self.task!r} is residual over the '
                'input image but got no inputs=; call it through '
                'MultiTaskModel, pass inputs= (RGB in [0, 1]) yourself, or '
                'set residual=False')
        if inputs.shape[-2:] != out.shape[-2:]:
            raise ValueError(f'EnhanceHead: inputs {tuple(inputs.shape)} and '
                             f'output {tuple(out.shape)} differ in size')
        return inputs + out

    def loss_inputs(self, out):
        return out if self.residual else out.sigmoid()

    def target(self, target):
        return target.float()

    def loss_extras(self, data_samples, indices, out):
        valid = torch.zeros(len(indices), *out.shape[-2:], dtype=torch.bool,
                            device=out.device)
        for k, i in enumerate(indices):
            h, w = data_samples[i].metainfo.get('img_shape',
                                                out.shape[-2:])[:2]
            valid[k, :h, :w] = True
        return dict(valid=valid)

    def postprocess(self, out):
        return out.clamp(0, 1) if self.residual else out.sigmoid()
