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


def input_to_rgb(img, bgr: bool = True) -> Optional[np.ndarray]:
    """A packed input [3, H, W] uint8 (BGR from the loader) -> HxWx3 RGB;
    a grey one ([1, H, W] or [H, W], Multi-MNIST) is repeated to three
    channels. ``None`` for an input that is not an image (a vector of the
    toy regression)."""
    arr = img.detach().cpu().numpy() if hasattr(img, 'detach') else \
        np.asarray(img)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[0] not in (1, 3):
        return None
    arr = arr.transpose(1, 2, 0)
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.shape[-1] == 1:
        return np.ascontiguousarray(np.repeat(arr, 3, axis=-1))
    return np.ascontiguousarray(arr[..., ::-1] if bgr else arr)


def _safe(text: str) -> str:
    return re.sub(r'[^A-Za-z0-9_.-]', '_', text)


def panel_name(sample, index: int, taken=()) -> str:
    """``<image stem>.png``; when that name is in ``taken`` (another
    image of the same stem: Office-Home's ``Art/Mug/00001.jpg`` and
    ``Clipart/Mug/00001.jpg``, two sources of a partial dataset), the parent
    folders are prefixed one at a time (``Mug_00001``, ``Art_Mug_00001``)
    and, if the whole path is taken, the source and index are appended."""
    meta = sample.metainfo if hasattr(sample, 'metainfo') else sample
    path = meta.get('img_path')
    if path and str(path).startswith('synth://'):
        candidates = [str(path)[len('synth://'):].replace('/', '_')]
    elif path:
        parts = [p for p in str(path).replace('\\', '/').split('/') if p]
        parts[-1] = osp.splitext(parts[-1])[0]
        candidates = ['_'.join(parts[-k:]) for k in range(1, len(parts) + 1)]
    else:
        candidates = [str(meta.get('sample_idx', index))]
    for stem in candidates:
        name = _safe(stem) + '.png'
        if name not in taken:
            return name
    return _safe(f'{candidates[-1]}_{meta.get("source", "")}_{index}') + '.png'


def label_space(dataset_meta: dict, source: Optional[str]):
    """``(classes, seg_palette)`` of a sample from ``source``: the source's
    own metainfo in a :class:`PartialMTLDataset` (``metainfo['sources']``,
    e.g. VOC's 20 classes next to NYU's none), else the dataset's."""
    meta = dataset_meta or {}
    sources = meta.get('sources') or {}
    if source in sources:
        meta = sources[source] or {}
    elif sources and not meta.get('classes'):
        # no source named: the only source with detection classes
        named = [m for m in sources.values() if (m or {}).get('classes')]
        if len(named) == 1:
            meta = named[0]
    return tuple(meta.get('classes') or ()), meta.get('seg_palette')


def seg_classes_of(dataset_meta: dict, source: Optional[str]):
    """The segmentation class names (``seg_classes``) of a sample from
    ``source``, found as :func:`label_space` finds the detection ones."""
    meta = dataset_meta or {}
    sources = meta.get('sources') or {}
    if source in sources:
        return tuple((sources[source] or {}).get('seg_classes') or ())
    if not meta.get('seg_classes') and sources:
        named = [m for m in sources.values() if (m or {}).get('seg_classes')]
        if len(named) == 1:
            return tuple(named[0]['seg_classes'])
    return tuple(meta.get('seg_classes') or ())


@HOOKS.register_module()
class MTLVisualizationHook(Hook):
    """After each test iteration, save ``show_dir/<image>.png``: the panel
    of :class:`MTLVisualizer` (predictions over ground truth), one per test
    image (names made unique, see :func:`panel_name`). Boxes are labelled
    with the class names of the sample's label space (:func:`label_space`),
    the segmentation legend with its ``seg_classes``; the ground truth of
    a task the image has no label for reads "no label".

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
        self._meta = {}
        self._names = set()
        self._warned = False

    def before_test(self, runner) -> None:
        os.makedirs(self.show_dir, exist_ok=True)
        self._meta = dict(
            getattr(runner.test_dataloader.dataset, 'metainfo', {}) or {})
        classes, palette = label_space(self._meta, None)
        self._visualizer = MTLVisualizer(
            name=f'mtl_vis_{id(self)}', classes=classes, palette=palette,
            score_thr=self.score_thr)
        self._names = set()

    def after_test_iter(self, runner, batch_idx: int, data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        if outputs is None or self._visualizer is None:
            return
        for i, sample in enumerate(outputs):
            if self.max_images is not None and self._count >= self.max_images:
                return
            image = input_to_rgb(data_batch['inputs'][i], self.bgr_inputs)
            if image is None:
                if not self._warned:
                    self._warned = True
                    shape = tuple(getattr(data_batch['inputs'][i], 'shape',
                                          ()))
                    runner.logger.warning(
                        f'--show-dir: the inputs are not images (shape '
                        f'{shape}); no panels are written')
                return
            ori = sample.metainfo.get('ori_shape', image.shape[:2])[:2]
            image = _resize(image, tuple(ori))
            classes, palette = label_space(self._meta,
                                           sample.metainfo.get('source'))
            panel = self._visualizer.draw_panel(
                image, sample, classes=classes, palette=palette,
                seg_classes=seg_classes_of(self._meta,
                                           sample.metainfo.get('source')),
                show_gt=True)
            name = panel_name(sample, batch_idx * 1000 + i, self._names)
            self._names.add(name)
            cv2.imwrite(osp.join(self.show_dir, name), panel[..., ::-1])
            self._count += 1
