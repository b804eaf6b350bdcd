"""Semantic segmentation head."""
import torch
from torch import nn

from mtlbox.registry import MODELS
from ..losses.cross_entropy_loss import label_range_message, out_of_range
from .base_dense_head import BaseDenseHead, select_labeled


@MODELS.register_module()
class SegHead(BaseDenseHead):
    """Per-pixel class logits [B, C, H, W]; trained with cross entropy
    (ignore 255, optional ``label_smoothing`` in the loss config); predicts
    ``pred_sem_seg`` [1, H, W] = argmax over classes.

    Before the loss, the labels of the batch are checked against
    ``num_classes``: a value outside ``0..num_classes-1`` that is not the
    ignore index raises ``ValueError`` naming the task, the value, the
    sample's ``img_path`` and ``num_classes`` (one device sync per step).

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

    @property
    def ignore_index(self):
        """The loss's ignore index (the first loss that has one)."""
        losses = (self.loss_module if isinstance(self.loss_module,
                                                 nn.ModuleList)
                  else [self.loss_module])
        for loss in losses:
            if hasattr(loss, 'ignore_index'):
                return loss.ignore_index
        return 255

    def check_labels(self, data_samples) -> None:
        """Raise if a labelled sample holds a label >= ``num_classes``."""
        idx = select_labeled(data_samples, self.key)
        if not idx:
            return
        ignore = self.ignore_index
        maps = [getattr(data_samples[i], self.gt_field).data for i in idx]
        flags = torch.stack([out_of_range(m, self.num_classes, ignore).any()
                             for m in maps])
        if not bool(flags.any()):
            return
        k = int(flags.nonzero()[0])
        bad = maps[k][out_of_range(maps[k], self.num_classes, ignore)]
        raise ValueError(label_range_message(
            torch.unique(bad).tolist(), self.num_classes, ignore,
            f'{type(self).__name__} of task {self.task!r} ({self.gt_field})',
            data_samples[idx[k]].metainfo.get('img_path')))

    def loss(self, feats, data_samples, inputs=None):
        self.check_labels(data_samples)
        return super().loss(feats, data_samples, inputs)

    def loss_by_sample(self, feats, data_samples, inputs=None):
        self.check_labels(data_samples)
        return super().loss_by_sample(feats, data_samples, inputs)

    def target(self, target):
        return target[:, 0].long()

    def postprocess(self, out):
        return out.argmax(dim=1, keepdim=True)
