"""Vector regression head (toy multi-task regression)."""
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.structures import LabelData
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .base_dense_head import scatter_labeled, select_labeled


@MODELS.register_module()
class RegressionHead(BaseModule):
    """Linear layers on a feature vector -> ``out_dim`` real values.

    Input: level ``in_index`` of the features, [B, C] (an MLP backbone) or
    [B, C, H, W] (global-average pooled). Hidden layers ``hidden`` (ReLU),
    then a linear layer to ``out_dim``: the task-specific tower of the
    GradNorm / SLGrad toy regression.

    Target: ``gt_label.values`` as packed by ``PackVectorInputs``: [T, K]
    for all tasks of the sample; ``label_index=t`` takes row t ([K]); with
    ``label_index=None`` the whole (flattened) ``values`` is the target.

    Loss (``loss_mse``): mean over samples and the K outputs of
    ``(pred - y)^2`` (``loss='l1'``: ``|pred - y|``, ``loss_l1``).
    ``loss_by_sample`` gives the per-sample mean over K (SLGrad).
    Prediction: ``pred_label_<task>`` = ``LabelData(values=[K])`` (and
    ``pred_label`` likewise, last head wins), read by ``RegressionMetric``.

    Args:
        in_channels: channels of each level (or one int).
        out_dim: K, outputs per task.
        hidden: widths of the hidden layers of the tower (default none).
        in_index: feature level (default the last).
        loss: ``'mse'`` or ``'l1'``.
        label_key: ``labeled_tasks`` entry selecting the samples (default
            the task name).
        label_index: row of ``gt_label.values`` this task regresses.
    """

    def __init__(self, in_channels: Union[int, Sequence[int]], out_dim: int,
                 hidden: Sequence[int] = (), in_index: int = -1,
                 loss: str = 'mse', label_key: Optional[str] = None,
                 label_index: Optional[int] = None, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if loss not in ('mse', 'l1'):
            raise ValueError(f"RegressionHead loss={loss!r}: 'mse' or 'l1'")
        in_channels = ([in_channels] if isinstance(in_channels, int) else
                       list(in_channels))
        self.in_channels, self.in_index = in_channels, in_index
        self.out_dim, self.loss_type = out_dim, loss
        layers, width = [], in_channels[in_index]
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU(inplace=True)]
            width = h
        layers.append(nn.Linear(width, out_dim))
        self.tower = nn.Sequential(*layers)
        self.label_key, self.label_index = label_key, label_index
        self.task = None

    @property
    def key(self) -> str:
        return self.label_key or self.task

    def forward(self, feats) -> Tensor:
        x = feats[self.in_index]
        if x.dim() == 4:
            x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        elif x.dim() != 2:
            raise ValueError(f'RegressionHead of task {self.task!r}: expects '
                             f'[B, C] or [B, C, H, W] features, got '
                             f'{tuple(x.shape)}')
        return self.tower(x)

    def target(self, sample) -> Tensor:
        """This task's target of one sample, [K]."""
        values = sample.gt_label.values
        if self.label_index is not None:
            if not -values.shape[0] <= self.label_index < values.shape[0]:
                raise IndexError(
                    f'RegressionHead of task {self.task!r}: label_index='
                    f'{self.label_index} but gt_label.values has '
                    f'{values.shape[0]} rows')
            values = values[self.label_index]
        values = values.reshape(-1).float()
        if values.numel() != self.out_dim:
            raise ValueError(f'RegressionHead of task {self.task!r}: target '
                             f'has {values.numel()} values, out_dim='
                             f'{self.out_dim}')
        return values

    def _per_sample(self, pred, target) -> Tensor:
        if self.loss_type == 'mse':
            return (pred - target).pow(2).mean(1)
        return (pred - target).abs().mean(1)

    def loss(self, feats, data_samples) -> Dict[str, Tensor]:
        idx = select_labeled(data_samples, self.key)
        if not idx:
            return {}
        pred = self(feats)[idx]
        target = torch.stack([self.target(data_samples[i]) for i in idx])
        return {f'loss_{self.loss_type}':
                self._per_sample(pred, target.to(pred)).mean()}

    def loss_by_sample(self, feats, data_samples):
        pred = self(feats)
        idx = select_labeled(data_samples, self.key)
        per = None
        if idx:
            target = torch.stack([self.target(data_samples[i])
                                  for i in idx]).to(pred)
            per = self._per_sample(pred[idx], target)
        return scatter_labeled(per, idx, len(data_samples), pred)

    @torch.no_grad()
    def predict(self, feats, data_samples) -> None:
        pred = self(feats)
        for i, sample in enumerate(data_samples):
            sample.pred_label = LabelData(values=pred[i])
            if self.task is not None:
                sample.set_field(LabelData(values=pred[i]),
                                 f'pred_label_{self.task}')
