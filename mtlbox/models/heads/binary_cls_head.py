"""One binary attribute: a single logit, binary cross entropy."""
from typing import Dict

import torch
import torch.nn.functional as F
from mmengine.structures import LabelData
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .base_dense_head import scatter_labeled, select_labeled
from .cls_head import ClsHead


@MODELS.register_module()
class BinaryClsHead(ClsHead):
    """Global average pooling -> ``Linear(C, 1)`` -> one logit ``z`` [B];
    loss ``BCE(sigmoid(z), y)`` (mean over the labelled samples) against the
    0/1 entry ``label_index`` of ``gt_label``; predicts ``score =
    sigmoid(z)`` [1] and ``label = [score > thr]``.

    The Nash-MTL / FAMO CelebA head (``nn.Linear(512, 1)`` + sigmoid +
    ``BCELoss``): ``C + 1`` parameters, half of a two-class
    :class:`ClsHead`. Predictions go to ``pred_label_<task>`` (and
    ``pred_label``), as :class:`ClsHead`.

    Args:
        in_channels: channels of each level (or one int).
        label_index: entry of ``gt_label.label`` this task predicts.
        thr: decision threshold on the sigmoid (0.5).
    """

    def __init__(self, in_channels, label_index: int, thr: float = 0.5,
                 **kwargs):
        super().__init__(in_channels, num_classes=2, thr=thr,
                         label_index=label_index, **kwargs)
        self.fc = nn.Linear(self.fc.in_features, 1)

    def _binary_targets(self, data_samples, idx, device) -> Tensor:
        return self._targets(data_samples, idx, device).float()

    def loss(self, feats, data_samples) -> Dict[str, Tensor]:
        idx = select_labeled(data_samples, self.key)
        if not idx:
            return {}
        logits = self(feats)[idx, 0]
        target = self._binary_targets(data_samples, idx, logits.device)
        return dict(loss_bce=F.binary_cross_entropy_with_logits(logits,
                                                                target))

    def loss_by_sample(self, feats, data_samples):
        logits = self(feats)[:, 0]
        idx = select_labeled(data_samples, self.key)
        per = None
        if idx:
            target = self._binary_targets(data_samples, idx, logits.device)
            per = F.binary_cross_entropy_with_logits(
                logits[idx], target, reduction='none')
        return scatter_labeled(per, idx, len(data_samples), logits)

    @torch.no_grad()
    def predict(self, feats, data_samples) -> None:
        scores = self(feats)[:, 0].sigmoid()
        for i, sample in enumerate(data_samples):
            score = scores[i:i + 1]
            pred = LabelData(label=(score > self.thr).long(), score=score)
            sample.pred_label = pred
            if self.task is not None:
                sample.set_field(pred.clone(), f'pred_label_{self.task}')
