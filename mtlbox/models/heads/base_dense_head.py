"""Shared machinery of the pixel-wise task heads."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.structures import PixelData
from torch import Tensor, nn

from mtlbox.registry import MODELS


def select_labeled(data_samples, task: str) -> List[int]:
    """Batch positions of samples that carry a label for ``task``."""
    return [i for i, s in enumerate(data_samples) if s.is_labeled(task)]


def stack_field(data_samples, field: str, indices: Sequence[int]) -> Tensor:
    """Stack ``data_samples[i].<field>.data`` for ``indices`` (same size)."""
    maps = [getattr(data_samples[i], field).data for i in indices]
    shapes = {tuple(m.shape) for m in maps}
    if len(shapes) != 1:
        raise ValueError(f'{field} maps of one batch differ in shape {shapes};'
                         ' MTLDataPreprocessor pads them in training mode')
    return torch.stack(maps)


class BaseDenseHead(BaseModule):
    """A dense head: fuse multi-level features, predict a map per pixel.

    Fusion: every level is resized (bilinear) to the finest level and the
    maps are concatenated, then ``3x3 conv-BN-ReLU -> 1x1 conv`` gives
    ``out_channels`` maps at the finest stride, which are upsampled to the
    padded input size for the loss and to ``ori_shape`` for predictions.

    Subclasses set ``gt_field``/``pred_field`` and implement
    :meth:`postprocess` (raw output -> prediction map). The task name is set
    by the model; the head reads samples whose ``labeled_tasks`` contains
    ``label_key`` (default: the task name).

    Args:
        in_channels: channels of each input level (or one int for one level).
        out_channels: channels of the raw output.
        channels: width of the fusion conv.
        loss: config of the loss module.
        label_key: task key in ``labeled_tasks`` (default: the task name).
    """

    gt_field: str = ''
    pred_field: str = ''
    loss_name: str = 'loss'

    def __init__(self,
                 in_channels: Union[int, List[int]],
                 out_channels: int,
                 loss: dict,
                 channels: int = 64,
                 label_key: Optional[str] = None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if isinstance(in_channels, int):
            in_channels = [in_channels]
        self.in_channels = list(in_channels)
        self.out_channels = out_channels
        self.fuse = nn.Sequential(
            nn.Conv2d(sum(self.in_channels), channels, 3, padding=1,
                      bias=False), nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True))
        self.predictor = nn.Conv2d(channels, out_channels, 1)
        self.loss_module = MODELS.build(loss)
        self.label_key = label_key
        self.task = None  # set by MultiTaskModel

    @property
    def key(self) -> str:
        return self.label_key or self.task

    def forward(self, feats: List[Tensor]) -> Tensor:
        if len(feats) != len(self.in_channels):
            raise ValueError(f'{type(self).__name__} of task {self.task!r} '
                             f'expects {len(self.in_channels)} feature levels,'
                             f' got {len(feats)}')
        size = feats[0].shape[-2:]
        maps = [feats[0]] + [
            F.interpolate(x, size=size, mode='bilinear', align_corners=False)
            for x in feats[1:]
        ]
        return self.predictor(self.fuse(torch.cat(maps, dim=1)))

    def forward_train(self, feats, data_samples):
        """Raw outputs at the padded input size, with labelled indices."""
        out = self(feats)
        size = data_samples[0].metainfo['batch_input_shape']
        out = F.interpolate(out, size=size, mode='bilinear',
                            align_corners=False)
        return out, select_labeled(data_samples, self.key)

    def loss_inputs(self, out: Tensor) -> Tensor:
        """What the loss compares with the target (e.g. activated depth)."""
        return out

    def loss(self, feats, data_samples) -> Dict[str, Tensor]:
        """``{loss_name: scalar}`` over labelled samples; ``{}`` if none."""
        out, idx = self.forward_train(feats, data_samples)
        if not idx:
            return {}
        target = stack_field(data_samples, self.gt_field, idx)
        pred = self.loss_inputs(out[idx])
        return {self.loss_name: self.loss_module(pred, self.target(target))}

    def loss_by_sample(self, feats, data_samples):
        """Per-sample losses [B] and the labelled mask [B] (for SLGrad)."""
        out, idx = self.forward_train(feats, data_samples)
        losses = out.new_zeros(len(data_samples))
        mask = torch.zeros(len(data_samples), dtype=torch.bool,
                           device=out.device)
        if idx:
            target = stack_field(data_samples, self.gt_field, idx)
            per = self.loss_module(
                self.loss_inputs(out[idx]), self.target(target),
                per_sample=True)
            losses = losses.index_put((torch.tensor(idx, device=out.device),),
                                      per)
            mask[idx] = True
        return losses, mask

    def target(self, target: Tensor) -> Tensor:
        return target

    def postprocess(self, out: Tensor) -> Tensor:
        raise NotImplementedError

    def predict(self, feats, data_samples) -> None:
        """Fill ``pred_field`` of each sample at its ``ori_shape``."""
        out = self(feats)
        size = data_samples[0].metainfo['batch_input_shape']
        out = F.interpolate(out, size=size, mode='bilinear',
                            align_corners=False)
        for i, sample in enumerate(data_samples):
            h, w = sample.metainfo['img_shape'][:2]
            one = out[i:i + 1, :, :h, :w]
            ori = sample.metainfo.get('ori_shape', (h, w))[:2]
            if tuple(ori) != (h, w):
                one = F.interpolate(one, size=tuple(ori), mode='bilinear',
                                    align_corners=False)
            setattr(sample, self.pred_field,
                    PixelData(data=self.postprocess(one)[0]))
