"""Edge detection head."""
from mtlbox.registry import MODELS
from .saliency_head import SaliencyHead


@MODELS.register_module()
class EdgeHead(SaliencyHead):
    """One logit per pixel; class-balanced BCE (HED weights, or a fixed
    ``pos_weight`` such as ASTMT's 0.95) against ``gt_edge`` (0/1, 255
    ignored); fills ``pred_edge`` [1, H, W] with edge probabilities."""

    gt_field = 'gt_edge'
    pred_field = 'pred_edge'

    def __init__(self, in_channels, channels=64,
                 loss=dict(type='BalancedBCELoss', balanced=True), **kwargs):
        super().__init__(in_channels, channels, loss, **kwargs)
