"""Batching of images and dense multi-task targets."""
from typing import Sequence

import torch
import torch.nn.functional as F
from mmengine.model import ImgDataPreprocessor
from mmengine.structures import PixelData

from mtlbox.registry import MODELS
from mtlbox.structures import pixel_kinds
from mtlbox.structures.task_kinds import geometry_changed


@MODELS.register_module()
class MTLDataPreprocessor(ImgDataPreprocessor):
    """Normalise, pad to a size divisor and stack images; pad dense targets.

    Images: optional BGR->RGB, ``(x - mean) / std``, padded bottom/right to a
    multiple of ``pad_size_divisor`` (``ImgDataPreprocessor``). Every sample
    gets ``batch_input_shape`` and ``pad_shape`` meta information.

    In training mode the dense ground truth of each sample (every pixel
    kind of the task-kind table, :mod:`mtlbox.structures.task_kinds`) is
    padded to the batch input shape with its invalid value so heads can
    stack it:
    ``gt_sem_seg``/``gt_parts``/``gt_edge``/``gt_saliency`` with
    ``seg_pad_value`` (ignore index), ``gt_depth`` with ``depth_pad_value``,
    ``gt_normal`` with zeros (invalid). ``gt_clean_img`` (enhancement target,
    uint8 in the loader's channel order) becomes float RGB in [0, 1] (also in
    test mode), padded with 0.

    With ``channels_last=True`` the batch leaves in the channels-last
    memory format (``torch.channels_last``, NHWC strides, same shape): the
    convolutions then run in that format and their outputs keep it (weights
    are reordered on the fly), which is faster on recent GPUs and oneDNN
    CPUs and changes no value beyond rounding.

    Args:
        mean, std, bgr_to_rgb, pad_size_divisor, pad_value: as in mmengine.
        seg_pad_value: ignore index used for padded label maps.
        depth_pad_value: invalid depth used for padding.
        channels_last: hand the model a channels-last batch.
    """

    def __init__(self,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 pad_size_divisor: int = 32,
                 pad_value: float = 0,
                 bgr_to_rgb: bool = True,
                 seg_pad_value: int = 255,
                 depth_pad_value: float = 0.0,
                 non_blocking: bool = False,
                 channels_last: bool = False):
        super().__init__(
            mean=mean,
            std=std,
            pad_size_divisor=pad_size_divisor,
            pad_value=pad_value,
            bgr_to_rgb=bgr_to_rgb,
            non_blocking=non_blocking)
        self.seg_pad_value = seg_pad_value
        self.depth_pad_value = depth_pad_value
        self.bgr_to_rgb = bgr_to_rgb
        self.channels_last = channels_last

    def forward(self, data: dict, training: bool = False) -> dict:
        data = super().forward(data, training)
        if self.channels_last and data['inputs'].dim() == 4:
            data['inputs'] = data['inputs'].contiguous(
                memory_format=torch.channels_last)
        inputs, samples = data['inputs'], data.get('data_samples')
        if samples is None:
            return data
        batch_shape = tuple(inputs.shape[-2:])
        for sample in samples:
            sample.set_metainfo(dict(batch_input_shape=batch_shape,
                                     pad_shape=batch_shape))
            if 'img_shape' not in sample:
                raise KeyError(f'data sample of {sample.get("img_path")} has '
                               'no img_shape; is PackMTLInputs the last '
                               'transform of the pipeline?')
            if ('gt_clean_img' in sample
                    and sample.gt_clean_img.data.dtype == torch.uint8):
                # convert once: a second pass must not divide again
                clean = sample.gt_clean_img.data.to(inputs.device).float()
                if self.bgr_to_rgb:
                    clean = clean.flip(0)
                sample.gt_clean_img = PixelData(data=clean / 255.0)
            if not training:
                continue
            self._check_training_frame(sample)
            for kind in pixel_kinds():
                self._pad(sample, kind.gt_field, batch_shape,
                          kind.invalid_value(self.seg_pad_value,
                                             self.depth_pad_value))
        return data

    @staticmethod
    def _check_training_frame(sample) -> None:
        """A loss needs labels in the input frame; labels packed in the
        original frame (a dataset in test mode) of a resized or flipped
        image would be compared with the wrong pixels."""
        meta = sample.metainfo
        if meta.get('gt_frame') == 'original' and geometry_changed(meta):
            raise ValueError(
                f'{meta.get("img_path", "a sample")}: its labels are in the '
                'original image frame (packed by a dataset in test mode) but '
                'its image was resized or flipped; a loss needs them in the '
                'input frame. A held-out loader of a balancer (SLGrad '
                'val_dataloader=...) must not set test_mode=True, or pack '
                "with PackMTLInputs(gt_frame='input')")

    def _pad(self, sample, field, batch_shape, value):
        if field not in sample:
            return
        pixel = getattr(sample, field)
        data = pixel.data.to(self.device)
        h, w = data.shape[-2:]
        bh, bw = batch_shape
        if h > bh or w > bw:
            raise ValueError(f'{field} of {sample.get("img_path")} is {h}x{w},'
                             f' larger than the batch input {bh}x{bw}; the '
                             'pipeline must resize labels with the image')
        if (h, w) != (bh, bw):
            data = F.pad(data, (0, bw - w, 0, bh - h), value=value)
        setattr(sample, field, PixelData(data=data))
