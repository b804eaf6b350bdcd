"""Image classification head."""
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.structures import LabelData
from torch import Tensor, nn

from mtlbox.registry import MODELS
from ..losses.cross_entropy_loss import label_range_message
from .base_dense_head import scatter_labeled, select_labeled


def select_entry(label: Tensor, index: int, who: str,
                 where: Optional[str] = None) -> Tensor:
    """``label[index]`` as a length-1 tensor; an index outside the label
    vector raises an error naming ``who`` and the sample."""
    n = label.shape[0]
    if not -n <= index < n:
        raise IndexError(f'{who}: label_index={index} but the gt_label of '
                         f'{where or "a sample"} has {n} entries '
                         f'{label.tolist()}')
    return label[index].reshape(1)


@MODELS.register_module()
class ClsHead(BaseModule):
    """Global average pooling of level ``in_index`` -> dropout -> linear to
    ``num_classes`` logits [B, C].

    Single-label (default): cross entropy against ``gt_label.label`` [1];
    fills ``pred_label`` with ``label`` [1] (argmax) and ``score`` [C]
    (softmax). ``multi_label=True``: ``gt_label.label`` lists the positive
    classes, the loss is BCE over the multi-hot target, ``score`` is the
    sigmoid and ``label`` the classes with ``score > thr``.

    One entry of a label vector (``label_index=k``): datasets whose tasks
    share one ``gt_label`` vector (Multi-MNIST ``[left, right]``, the ten
    one-vs-rest 0/1 labels of CIFAR-10 MT) give every task's head the
    position of its entry; the head then trains on ``gt_label.label[k]``
    only (single-label; a 0/1 entry with ``num_classes=2`` is a binary
    one-vs-rest classifier). ``label_index=None`` uses the whole label.

    Predictions are written twice: ``pred_label`` (the last head to predict
    wins, as for a single classification task) and ``pred_label_<task>``
    (this head's own, which ``ClsMetric(task=<task>)`` reads), so several
    classification heads on one sample keep their own predictions.

    Args:
        in_channels: channels of each level (or one int).
        num_classes: classes.
        in_index: which level to pool (default the last, coarsest).
        loss: loss config (default ``CrossEntropyLoss``; ignored with
            ``multi_label``).
        label_key: the ``labeled_tasks`` entry that selects the samples
            (default the task name).
        label_index: entry of ``gt_label.label`` this task predicts (default
            ``None``: the whole label).
    """

    def __init__(self, in_channels: Union[int, Sequence[int]],
                 num_classes: int, in_index: int = -1, dropout: float = 0.0,
                 multi_label: bool = False, thr: float = 0.5,
                 loss: dict = dict(type='CrossEntropyLoss', ignore_index=-100),
                 label_key: Optional[str] = None,
                 label_index: Optional[int] = None, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        in_channels = ([in_channels] if isinstance(in_channels, int) else
                       list(in_channels))
        self.in_channels, self.in_index = in_channels, in_index
        self.num_classes = num_classes
        self.multi_label, self.thr = multi_label, thr
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_channels[in_index], num_classes)
        self.loss_module = MODELS.build(loss)
        if label_index is not None and multi_label:
            raise ValueError('ClsHead: label_index selects one single-label '
                             'entry; it cannot be combined with multi_label')
        self.label_key = label_key
        self.label_index = label_index
        self.task = None

    @property
    def key(self) -> str:
        return self.label_key or self.task

    def forward(self, feats) -> Tensor:
        if len(feats) != len(self.in_channels):
            raise ValueError(f'ClsHead of task {self.task!r} expects '
                             f'{len(self.in_channels)} feature levels, got '
                             f'{len(feats)}')
        x = F.adaptive_avg_pool2d(feats[self.in_index], 1).flatten(1)
        return self.fc(self.dropout(x))

    def _label(self, sample) -> Tensor:
        """The label of ``sample`` for this task: the whole ``gt_label``
        vector, or its entry ``label_index`` (shape [1])."""
        label = sample.gt_label.label.reshape(-1)
        if self.label_index is None:
            return label
        return select_entry(label, self.label_index,
                            f'ClsHead of task {self.task!r}',
                            sample.metainfo.get('img_path'))

    def _check_range(self, data_samples, idx, labels) -> None:
        """Raise naming task, value, file and ``num_classes`` for a label
        outside ``0..num_classes-1`` (the loss's ignore index excepted in
        single-label mode)."""
        ignore = (None if self.multi_label else
                  getattr(self.loss_module, 'ignore_index', None))

        def bad_of(lab):
            lab = lab.long()
            bad = (lab < 0) | (lab >= self.num_classes)
            return bad & (lab != ignore) if ignore is not None else bad

        if not labels or not bool(bad_of(torch.cat(labels)).any()):
            return  # one device sync for the batch
        for i, lab in zip(idx, labels):
            bad = bad_of(lab)
            if bad.any():
                raise ValueError(label_range_message(
                    lab.long()[bad].tolist(), self.num_classes, ignore,
                    f'ClsHead of task {self.task!r}',
                    data_samples[i].metainfo.get('img_path')))

    def _targets(self, data_samples, idx, device):
        labels = [self._label(data_samples[i]).to(device) for i in idx]
        self._check_range(data_samples, idx, labels)
        if self.multi_label:
            target = torch.zeros(len(idx), self.num_classes, device=device)
            for k, lab in enumerate(labels):
                target[k, lab.long()] = 1.0
            return target
        bad = [lab.tolist() for lab in labels if lab.numel() != 1]
        if bad:
            raise ValueError(f'ClsHead task {self.task!r}: single-label '
                             f'gt_label must hold one class, got {bad}; set '
                             'multi_label=True for several')
        return torch.cat(labels).long()

    def _per_sample(self, logits, target):
        if self.multi_label:
            return F.binary_cross_entropy_with_logits(
                logits, target, reduction='none').mean(1)
        return self.loss_module(logits, target, per_sample=True)

    def loss(self, feats, data_samples) -> Dict[str, Tensor]:
        idx = select_labeled(data_samples, self.key)
        if not idx:
            return {}
        logits = self(feats)[idx]
        target = self._targets(data_samples, idx, logits.device)
        if self.multi_label:
            return dict(loss_bce=F.binary_cross_entropy_with_logits(
                logits, target))
        return dict(loss_ce=self.loss_module(logits, target))

    def loss_by_sample(self, feats, data_samples):
        logits = self(feats)
        idx = select_labeled(data_samples, self.key)
        per = None
        if idx:
            target = self._targets(data_samples, idx, logits.device)
            per = self._per_sample(logits[idx], target)
        return scatter_labeled(per, idx, len(data_samples), logits)

    @torch.no_grad()
    def predict(self, feats, data_samples) -> None:
        logits = self(feats)
        for i, sample in enumerate(data_samples):
            if self.multi_label:
                score = logits[i].sigmoid()
                label = torch.nonzero(score > self.thr).reshape(-1)
            else:
                score = logits[i].softmax(0)
                label = score.argmax().reshape(1)
            sample.pred_label = LabelData(label=label, score=score)
            if self.task is not None:
                sample.set_field(LabelData(label=label, score=score),
                                 f'pred_label_{self.task}')
