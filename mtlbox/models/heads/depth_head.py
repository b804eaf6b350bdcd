"""Metric depth regression head."""
import torch.nn.functional as F

from mtlbox.registry import MODELS
from .base_dense_head import BaseDenseHead


@MODELS.register_module()
class DepthHead(BaseDenseHead):
    """Predicts metric depth ``softplus(x) + min_depth`` per pixel (always
    positive) [B, 1, H, W]; trained with masked L1 on valid pixels
    (``DepthL1Loss``: ground truth in ``(invalid_value, max_depth]``);
    add the scale-invariant log loss with
    ``loss=[dict(type='DepthL1Loss'), dict(type='SILogLoss')]``.
    Fills ``pred_depth`` [1, H, W] in metres."""

    gt_field = 'gt_depth'
    pred_field = 'pred_depth'
    loss_name = 'loss_l1'

    def __init__(self, in_channels, channels=64, min_depth=1e-3,
                 loss=dict(type='DepthL1Loss'), **kwargs):
        super().__init__(in_channels, 1, loss, channels, **kwargs)
        self.min_depth = min_depth

    def loss_inputs(self, out):
        return F.softplus(out) + self.min_depth

    def postprocess(self, out):
        return self.loss_inputs(out)
