"""Surface normal head."""
import torch
import torch.nn.functional as F

from mtlbox.registry import MODELS
from .base_dense_head import BaseDenseHead


@MODELS.register_module()
class NormalHead(BaseDenseHead):
    """Predicts camera-frame unit normals [3, H, W] (L2-normalised raw
    output); trained with ``1 - cos`` (``NormalCosineLoss``) or L1 between
    unit vectors (``NormalL1Loss``) on valid pixels (non-zero ground
    truth); fills ``pred_normal``."""

    gt_field = 'gt_normal'
    pred_field = 'pred_normal'
    loss_name = 'loss_cos'

    def __init__(self, in_channels, channels=64,
                 loss=dict(type='NormalCosineLoss'), **kwargs):
        super().__init__(in_channels, 3, loss, channels, **kwargs)

    def postprocess(self, out):
        return F.normalize(out, dim=1)

    def unflip(self, pred):
        """A mirrored image mirrors the normals: x (camera right) changes
        sign (the inverse of :class:`MTLRandomFlip`)."""
        pred = pred.flip(-1)
        return torch.cat([-pred[:, :1], pred[:, 1:]], dim=1)
