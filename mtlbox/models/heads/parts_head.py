"""Human parts segmentation head."""
from mtlbox.registry import MODELS
from .seg_head import SegHead


@MODELS.register_module()
class PartsHead(SegHead):
    """:class:`SegHead` on ``gt_parts`` / ``pred_parts`` (PASCAL-Context
    human parts: 7 classes with background, 255 ignored -- images without
    people are unlabelled for the task, not all-background)."""

    gt_field = 'gt_parts'
    pred_field = 'pred_parts'

    def __init__(self, in_channels, num_classes=7, channels=64, **kwargs):
        super().__init__(in_channels, num_classes, channels, **kwargs)
