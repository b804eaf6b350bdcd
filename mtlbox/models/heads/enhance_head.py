"""Underwater image enhancement head."""
import torch

from mtlbox.registry import MODELS
from .base_dense_head import BaseDenseHead


@MODELS.register_module()
class EnhanceHead(BaseDenseHead):
    """Predicts the clean RGB image in [0, 1], ``sigmoid(x)`` [B, 3, H, W],
    from the shared features; trained against ``gt_clean_img`` (float RGB
    in [0, 1], made by ``MTLDataPreprocessor``) with L1 (``PixelL1Loss``)
    plus optional SSIM (``SSIMLoss``) over the pixels inside each image's
    ``img_shape`` (padding excluded). Fills ``pred_clean_img`` [3, H, W].

    The issue asks for a residual over the input image; heads receive only
    features (``head.loss(feats, data_samples)``), so this head predicts
    the image directly (see docs/heads.md).

    Config::

        enhance=dict(type='EnhanceHead', in_channels=[64] * 4,
                     loss=[dict(type='PixelL1Loss'),
                           dict(type='SSIMLoss', loss_weight=0.5)])
    """

    gt_field = 'gt_clean_img'
    pred_field = 'pred_clean_img'
    loss_name = 'loss_l1'

    def __init__(self, in_channels, channels=64,
                 loss=dict(type='PixelL1Loss'), **kwargs):
        super().__init__(in_channels, 3, loss, channels, **kwargs)

    def loss_inputs(self, out):
        return out.sigmoid()

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
        return out.sigmoid()
