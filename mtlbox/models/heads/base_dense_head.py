"""Shared machinery of the pixel-wise task heads."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.structures import PixelData
from torch import Tensor, nn

from mtlbox.registry import MODELS
from mtlbox.utils.signature import takes_arg
from ..losses.utils import HeadLosses
from .layers import MBConv


def select_labeled(data_samples, task: str) -> List[int]:
    """Batch positions of samples that carry a label for ``task``."""
    return [i for i, s in enumerate(data_samples) if s.is_labeled(task)]


def scatter_labeled(per: Optional[Tensor], indices: Sequence[int],
                    batch_size: int, like: Tensor):
    """Per-sample losses [B] holding ``per`` at the labelled positions
    ``indices`` (0 elsewhere), and the labelled mask [B]: what
    ``loss_by_sample`` returns (SLGrad). ``per`` is unused when ``indices``
    is empty; ``like`` gives dtype, device and the graph."""
    losses = like.new_zeros(batch_size)
    mask = torch.zeros(batch_size, dtype=torch.bool, device=like.device)
    if indices:
        losses = losses.index_put(
            (torch.tensor(indices, device=like.device), ), per)
        mask[list(indices)] = True
    return losses, mask


def stack_field(data_samples, field: str, indices: Sequence[int]) -> Tensor:
    """Stack ``data_samples[i].<field>.data`` for ``indices`` (same size)."""
    maps = [getattr(data_samples[i], field).data for i in indices]
    shapes = {tuple(m.shape) for m in maps}
    if len(shapes) != 1:
        raise ValueError(f'{field} maps of one batch differ in shape {shapes};'
                         ' MTLDataPreprocessor pads them in training mode')
    return torch.stack(maps)


class BaseDenseHead(BaseModule):
    """A dense head: decode multi-level features, predict a map per pixel.

    ``decoder`` (features -> one map) then the per-task ``predictor``:

    - decoder ``None`` (default): :class:`ConcatDecoder` -- every level
      resized (bilinear) to the finest and concatenated; other choices
      :class:`ASPPDecoder` (DeepLab) and :class:`LightDecoder` (AMTL VMM).
    - ``predictor='conv'`` (default): ``3x3 conv-BN-ReLU (channels) -> 1x1
      conv`` (DeepLab's per-task head); ``'mbconv'``: one MBConv (expand 2)
      to ``out_channels`` with a biased output conv (VMM).

    The raw output is upsampled (bilinear) to the padded input size for the
    loss and cropped to ``img_shape`` then resized to ``ori_shape`` for
    predictions. Subclasses set ``gt_field``/``pred_field`` and implement
    :meth:`postprocess`. The task name is set by the model; the head reads
    samples whose ``labeled_tasks`` contains ``label_key`` (default: the
    task name).

    Args:
        in_channels: channels of each input level (or one int).
        out_channels: channels of the raw output.
        loss: config of the loss module, or a list of configs (summed by the
            model; keys are each loss's ``loss_name``).
        channels: width of the conv predictor.
        label_key: task key in ``labeled_tasks`` (default: the task name).
        decoder: decoder config; ``in_channels`` is filled in if missing.
        predictor: ``'conv'`` or ``'mbconv'``.
    """

    gt_field: str = ''
    pred_field: str = ''
    loss_name: str = 'loss'
    #: heads that read the input image (e.g. a residual over it) set this;
    #: the model then passes ``inputs=`` (RGB in [0, 1], the batch's padded
    #: size) to :meth:`loss`, :meth:`loss_by_sample` and :meth:`predict`.
    needs_input_image: bool = False

    def __init__(self,
                 in_channels: Union[int, List[int]],
                 out_channels: int,
                 loss: Union[dict, List[dict]],
                 channels: int = 64,
                 label_key: Optional[str] = None,
                 decoder: Optional[dict] = None,
                 predictor: str = 'conv',
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if isinstance(in_channels, int):
            in_channels = [in_channels]
        self.in_channels = list(in_channels)
        self.out_channels = out_channels
        decoder = dict(decoder or dict(type='ConcatDecoder'))
        decoder.setdefault('in_channels', self.in_channels)
        self.decoder = MODELS.build(decoder)
        dec_ch = self.decoder.out_channels
        if predictor == 'conv':
            self.fuse = nn.Sequential(
                nn.Conv2d(dec_ch, channels, 3, padding=1, bias=False),
                nn.BatchNorm2d(channels), nn.ReLU(inplace=True))
            self.predictor = nn.Conv2d(channels, out_channels, 1)
        elif predictor == 'mbconv':
            self.fuse = nn.Identity()
            self.predictor = MBConv(dec_ch, out_channels, expand=2,
                                    out_bias=True)
        else:
            raise ValueError(f"{type(self).__name__} predictor={predictor!r}:"
                             " use 'conv' or 'mbconv'")
        if isinstance(loss, (list, tuple)):
            self.loss_module = nn.ModuleList(MODELS.build(c) for c in loss)
            names = [getattr(m, 'loss_name', f'loss_{i}')
                     for i, m in enumerate(self.loss_module)]
            if len(set(names)) != len(names):
                raise ValueError(f'{type(self).__name__}: losses {names} '
                                 'share a loss_name; give each a distinct '
                                 'loss_name=... in its config')
        else:
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
        return self.predictor(self.fuse(self.decoder(list(feats))))

    def forward_train(self, feats, data_samples, inputs=None):
        """Raw outputs at the padded input size, with labelled indices."""
        out = self(feats)
        size = data_samples[0].metainfo['batch_input_shape']
        out = F.interpolate(out, size=size, mode='bilinear',
                            align_corners=False)
        return self.combine_input(out, inputs), select_labeled(
            data_samples, self.key)

    def combine_input(self, out: Tensor, inputs: Optional[Tensor]) -> Tensor:
        """Hook for heads with ``needs_input_image``: merge the raw output
        (at the padded input size) with the input image. Identity here."""
        return out

    def loss_inputs(self, out: Tensor) -> Tensor:
        """What the loss compares with the target (e.g. activated depth)."""
        return out

    def loss_extras(self, data_samples, indices, out: Tensor) -> dict:
        """Extra keyword arguments of the loss modules (e.g. a ``valid``
        mask); none by default."""
        return {}

    def _loss_terms(self):
        """``(loss_name, module)`` of every loss module."""
        if isinstance(self.loss_module, nn.ModuleList):
            return [(getattr(m, 'loss_name', f'loss_{i}'), m)
                    for i, m in enumerate(self.loss_module)]
        return [(self.loss_name, self.loss_module)]

    def _losses(self, pred, target, per_sample=False,
                **extra) -> Dict[str, Tensor]:
        """``{loss_name: loss}``; batch-level (not ``per_sample``): a
        :class:`~mtlbox.models.losses.HeadLosses` with each term's
        avg_factor, asked from modules that take ``return_avg_factor``
        (the others count the labelled samples, ``len(target)``)."""
        if per_sample:
            return {name: m(pred, target, per_sample=True, **extra)
                    for name, m in self._loss_terms()}
        out = HeadLosses()
        for name, m in self._loss_terms():
            if takes_arg(m.forward, 'return_avg_factor'):
                value, avg = m(pred, target, return_avg_factor=True, **extra)
            else:  # a plugin loss module
                value, avg = m(pred, target, **extra), len(target)
            out.add(name, value, avg)
        return out

    def loss(self, feats, data_samples, inputs=None) -> Dict[str, Tensor]:
        """``{loss_name: scalar}`` over labelled samples; ``{}`` if none."""
        out, idx = self.forward_train(feats, data_samples, inputs)
        if not idx:
            return {}
        target = self.target(stack_field(data_samples, self.gt_field, idx))
        return self._losses(self.loss_inputs(out[idx]), target,
                            **self.loss_extras(data_samples, idx, out))

    def loss_by_sample(self, feats, data_samples, inputs=None):
        """Per-sample losses [B] (components summed) and the labelled mask
        [B] (for SLGrad)."""
        out, idx = self.forward_train(feats, data_samples, inputs)
        per = None
        if idx:
            target = self.target(stack_field(data_samples, self.gt_field,
                                             idx))
            per = sum(self._losses(
                self.loss_inputs(out[idx]), target, per_sample=True,
                **self.loss_extras(data_samples, idx, out)).values())
        return scatter_labeled(per, idx, len(data_samples), out)

    def target(self, target: Tensor) -> Tensor:
        return target

    def postprocess(self, out: Tensor) -> Tensor:
        raise NotImplementedError

    def unflip(self, pred: Tensor) -> Tensor:
        """Undo a horizontal flip of a postprocessed prediction [1, C, H, W]
        (mirror the columns; :class:`NormalHead` also negates x)."""
        return pred.flip(-1)

    def predict(self, feats, data_samples, inputs=None) -> None:
        """Fill ``pred_field`` of each sample in its original image frame:
        the raw output is upsampled to the padded input, cropped to
        ``img_shape`` (padding removed), resized (bilinear, before the
        argmax / activation) to ``ori_shape`` and unflipped when the sample
        was flipped."""
        out = self(feats)
        size = data_samples[0].metainfo['batch_input_shape']
        out = F.interpolate(out, size=size, mode='bilinear',
                            align_corners=False)
        out = self.combine_input(out, inputs)
        for i, sample in enumerate(data_samples):
            h, w = sample.metainfo['img_shape'][:2]
            one = out[i:i + 1, :, :h, :w]
            ori = sample.metainfo.get('ori_shape', (h, w))[:2]
            if tuple(ori) != (h, w):
                one = F.interpolate(one, size=tuple(ori), mode='bilinear',
                                    align_corners=False)
            pred = self.postprocess(one)
            if sample.metainfo.get('flip'):
                pred = self.unflip(pred)
            setattr(sample, self.pred_field, PixelData(data=pred[0]))
