"""Semantic segmentation head."""
from mtlbox.registry import MODELS
from .base_dense_head import BaseDenseHead


@MODELS.register_module()
class SegHead(BaseDenseHead):
    """Per-pixel class logits [B, C, H, W]; trained with cross entropy
    (ignore 255, optional ``label_smoothing`` in the loss config); predicts
    ``pred_sem_seg`` [1, H, W] = argmax over classes.

    Config (DeepLab ASPP head)::

        seg=dict(type='SegHead', in_channels=[2048], num_classes=21,
                 channels=256, decoder=dict(type='ASPPDecoder'))

    Args:
        num_classes: number of classes (logit channels).
        (others as :class:`BaseDenseHead`).
    """

    gt_field = 'gt_sem_seg'
    pred_field = 'pred_sem_seg'
    loss_name = 'loss_ce'

    def __init__(self, in_channels, num_classes, channels=64,
                 loss=dict(type='CrossEntropyLoss', ignore_index=255),
                 **kwargs):
        super().__init__(in_channels, num_classes, loss, channels, **kwargs)
        self.num_classes = num_classes

    def target(self, target):
        return target[:, 0].long()

    def postprocess(self, out):
        return out.argmax(dim=1, keepdim=True)
