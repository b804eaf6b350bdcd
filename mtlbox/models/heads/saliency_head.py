"""Saliency and edge heads: one binary map per image."""
from mtlbox.registry import MODELS
from .base_dense_head import BaseDenseHead


@MODELS.register_module()
class SaliencyHead(BaseDenseHead):
    """One logit per pixel [B, 1, H, W]; trained with binary cross entropy
    (``BalancedBCELoss(balanced=False)``, 255 ignored) against
    ``gt_saliency`` (0/1); fills ``pred_saliency`` [1, H, W] with the
    probability ``sigmoid(x)``."""

    gt_field = 'gt_saliency'
    pred_field = 'pred_saliency'
    loss_name = 'loss_bce'

    def __init__(self, in_channels, channels=64,
                 loss=dict(type='BalancedBCELoss', balanced=False),
                 **kwargs):
        super().__init__(in_channels, 1, loss, channels, **kwargs)

    def postprocess(self, out):
        return out.sigmoid()
