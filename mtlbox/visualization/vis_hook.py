"""Hook that writes a multi-task panel per test image."""
import os
import os.path as osp
import re
from typing import Optional, Sequence

import cv2
import numpy as np
from mmengine.hooks import Hook

from mtlbox.registry import HOOKS
from .mtl_visualizer import MTLVisualizer, _resize


def input_to_rgb(img, bgr: bool = True) -> np.ndarray:
    """A packed input [3, H, W] uint8 (BGR from the loader) -> HxWx3 RGB."""
    arr = img.detach().cpu().numpy() if hasattr(img, 'detach') else \
        np.asarray(img)
    arr = arr.transpose(1, 2, 0)
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr[..., ::-1] if bgr else arr)


def panel_name(sample, index: int) -> str:
    meta = sample.metainfo if hasattr(sample, 'metainfo') else sample
    path = meta.get('img_path')
    if path:
        stem = osp.splitext(osp.basename(str(path).rstrip('/')))[0]
        if str(path).startswith('synth://'):
            stem = str(path)[len('synth://'):].replace('/', '_')
    else:
        stem = str(meta.get('sample_idx', index))
    return re.sub(r'[^A-Za-z0-9_.-]', '_', stem) + '.png'


@HOOKS.register_module()
class MTLVisualizationHook(Hook):
    """After each test iteration, save ``show_dir/<image>.png``: the panel
    of :class:`MTLVisualizer` (predictions over ground truth).

    Args:
        show_dir: output folder (created).
        score_thr: smallest box score drawn.
        max_images: stop after this many panels (None: all).
        bgr_inputs: the packed inputs are BGR (mmcv loading; SynthScenes).
    """

    priority = 'LOW'

    def __init__(self, show_dir: str, score_thr: float = 0.3,
                 max_images: Optional[int] = None, bgr_inputs: bool = True):
        self.show_dir = show_dir
        self.score_thr = score_thr
        self.max_images = max_images
        self.bgr_inputs = bgr_inputs
        self._count = 0
        self._visualizer = None

    def before_test(self, runner) -> None:
        os.makedirs(self.show_dir, exist_ok=True)
        meta = getattr(runner.test_dataloader.dataset, 'metainfo', {}) or {}
        self._visualizer = MTLVisualizer(
            name=f'mtl_vis_{id(self)}', classes=meta.get('classes', ()),
            palette=meta.get('seg_palette'), score_thr=self.score_thr)

    def after_test_iter(self, runner, batch_idx: int, data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        if outputs is None or self._visualizer is None:
            return
        for i, sample in enumerate(outputs):
            if self.max_images is not None and self._count >= self.max_images:
                return
            image = input_to_rgb(data_batch['inputs'][i], self.bgr_inputs)
            ori = sample.metainfo.get('ori_shape', image.shape[:2])[:2]
            image = _resize(image, tuple(ori))
            panel = self._visualizer.draw_panel(image, sample)
            name = panel_name(sample, batch_idx * 1000 + i)
            cv2.imwrite(osp.join(self.show_dir, name), panel[..., ::-1])
            self._count += 1
