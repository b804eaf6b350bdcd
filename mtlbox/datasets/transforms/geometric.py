"""Geometric transforms that keep every task's labels consistent."""
import numpy as np
from mmcv.transforms import BaseTransform

from mtlbox.registry import TRANSFORMS
from mtlbox.structures import pixel_kinds

from .random_state import WorkerRNG


def _map_kinds(results):
    """``(key, kind)`` of every pixel label present in ``results`` (from the
    task-kind table, so a plugin's kind moves with the image too)."""
    return [(k.result_key, k) for k in pixel_kinds() if k.result_key in
            results]


#: results key holding the labels as they were before the first geometric
#: transform (the original image frame), see :func:`keep_original_labels`
ORIGINAL_LABELS = 'ori_labels'
#: results key set to the name of a transform whose effect on the image
#: frame cannot be undone by predictions (a crop, a canvas expansion)
FRAME_CHANGED_BY = 'frame_changed_by'


def keep_original_labels(results: dict) -> dict:
    """Remember every ``gt_*`` entry of ``results`` before the first
    geometric transform changes it.

    Every geometric transform of mtlbox calls this first; only the first
    call records (references, not copies: transforms build new arrays and
    never write into their inputs). :class:`PackMTLInputs` packs these
    original-frame labels for evaluation (``gt_frame='original'``), so
    metrics compare predictions mapped back to the original image with the
    ground truth as it was read from disk, as mmdet and mmseg do by loading
    annotations after the resize in their test pipelines. A plugin transform
    that moves pixels or boxes should call it too.
    """
    if ORIGINAL_LABELS not in results:
        results[ORIGINAL_LABELS] = {
            k: v for k, v in results.items() if k.startswith('gt_')}
    return results


@TRANSFORMS.register_module()
class MTLRandomFlip(BaseTransform):
    """Horizontal flip of the image and every label with probability ``prob``.

    Boxes are mirrored (``x1' = W - x2``); dense maps are flipped; surface
    normals also negate their x component (camera x points right), which a
    plain image flip would get wrong.
    """

    def __init__(self, prob: float = 0.5, seed=None):
        if not 0 <= prob <= 1:
            raise ValueError(f'MTLRandomFlip prob={prob} not in [0, 1]')
        self.prob = prob
        self.rng = WorkerRNG(seed)

    def transform(self, results):
        keep_original_labels(results)
        flip = bool(self.rng(results).random() < self.prob)
        results['flip'] = flip
        results['flip_direction'] = 'horizontal' if flip else None
        if not flip:
            return results
        if 'pad_shape' in results:
            # predictions are unflipped within img_shape, not the padding
            results[FRAME_CHANGED_BY] = 'MTLRandomFlip after MTLPad'
        w = results['img'].shape[1]
        results['img'] = np.ascontiguousarray(results['img'][:, ::-1])
        for key, kind in _map_kinds(results):
            flipped = np.ascontiguousarray(results[key][:, ::-1])
            if kind.mirror_channel is not None:  # e.g. normals: x -> -x
                flipped[..., kind.mirror_channel] *= -1
            results[key] = flipped
        if 'gt_bboxes' in results:
            boxes = np.asarray(results['gt_bboxes'], np.float32).copy()
            boxes[:, [0, 2]] = w - boxes[:, [2, 0]]
            results['gt_bboxes'] = boxes
        return results


# ------------------------------------------------------------------ resize


def _resize(arr, size_wh, interp):
    import cv2
    out = cv2.resize(arr, size_wh, interpolation=interp)
    if arr.ndim == 3 and out.ndim == 2:  # cv2 drops a trailing 1-channel
        out = out[..., None]
    return out


def resize_depth(depth, size_wh, mode='nearest'):
    """Resize a depth map (0 = invalid) without blending into invalid pixels.

    ``nearest`` keeps measured values; ``bilinear`` interpolates
    ``depth * valid`` and ``valid`` and divides, so a pixel is a weighted mean
    of valid neighbours only; pixels with less than half valid weight become
    invalid (0).
    """
    import cv2
    depth = np.asarray(depth, np.float32)
    if mode == 'nearest':
        return _resize(depth, size_wh, cv2.INTER_NEAREST)
    if mode != 'bilinear':
        raise ValueError(f'depth interpolation {mode!r}: use nearest or '
                         'bilinear')
    valid = (depth > 0).astype(np.float32)
    num = _resize(depth * valid, size_wh, cv2.INTER_LINEAR)
    den = _resize(valid, size_wh, cv2.INTER_LINEAR)
    return np.where(den >= 0.5, num / np.maximum(den, 1e-6),
                    0).astype(np.float32)


def resize_normal(normal, size_wh):
    """Bilinear on the vectors, then back to unit length; invalid (all-zero)
    pixels are excluded the same way as for depth."""
    import cv2

    from .loading import renormalize
    valid = (np.abs(normal).sum(-1) > 0).astype(np.float32)
    num = _resize(normal * valid[..., None], size_wh, cv2.INTER_LINEAR)
    den = _resize(valid, size_wh, cv2.INTER_LINEAR)
    out = renormalize(num, min_norm=1e-3)
    out[den < 0.5] = 0
    return out


def rescale_size(old_hw, scale_wh, keep_ratio):
    """``(new_w, new_h)``; with ``keep_ratio`` the largest size with the old
    aspect whose long side <= max(scale) and short side <= min(scale)."""
    h, w = old_hw
    if not keep_ratio:
        return int(scale_wh[0]), int(scale_wh[1])
    long_edge, short_edge = max(scale_wh), min(scale_wh)
    factor = min(long_edge / max(h, w), short_edge / min(h, w))
    return int(w * factor + 0.5), int(h * factor + 0.5)


@TRANSFORMS.register_module()
class MTLResize(BaseTransform):
    """Resize the image and every label present to ``scale=(w, h)``.

    - image and ``gt_clean_img``: bilinear;
    - ``gt_seg_map``/``gt_saliency``/``gt_edge``/``gt_parts``: nearest;
    - ``gt_depth``: ``depth_interp`` (``nearest`` or ``bilinear`` with a
      valid mask, see :func:`resize_depth`); values are kept by default (a
      resize does not move the camera); ``scale_depth=True`` divides them by
      the zoom factor ``sqrt(w_scale h_scale)``, i.e. treats the zoom as the
      camera moving closer (mtan's scale augmentation);
    - ``gt_normal``: bilinear then renormalised to unit length;
    - ``gt_bboxes``: x scaled by ``w_new / w``, y by ``h_new / h``, clipped.

    Records ``img_shape``, ``scale_factor=(w_scale, h_scale)`` (multiplied
    into an existing one) and ``keep_ratio``.

    Args:
        scale: target ``(width, height)`` (mmcv/mmdet convention).
        keep_ratio: keep the aspect (long side <= max(scale), short side <=
            min(scale)).
        ratio_range: optional ``(lo, hi)``: ``scale`` is first multiplied by
            a factor drawn uniformly from it (random rescale).
        depth_interp: ``nearest`` (default) or ``bilinear``.
        scale_depth: divide depth by the zoom factor (see above).
        seed: seed of the random factor.
    """

    def __init__(self, scale, keep_ratio=False, ratio_range=None,
                 depth_interp='nearest', scale_depth=False, seed=None):
        if isinstance(scale, int):
            scale = (scale, scale)
        self.scale = tuple(int(s) for s in scale)
        self.keep_ratio = keep_ratio
        self.ratio_range = ratio_range
        if depth_interp not in ('nearest', 'bilinear'):
            raise ValueError(f'MTLResize depth_interp={depth_interp!r}: use '
                             "'nearest' or 'bilinear'")
        self.depth_interp = depth_interp
        self.scale_depth = scale_depth
        self.rng = WorkerRNG(seed)

    def transform(self, results):
        import cv2
        keep_original_labels(results)
        scale = self.scale
        if self.ratio_range is not None:
            f = self.rng(results).uniform(*self.ratio_range)
            scale = (int(scale[0] * f + 0.5), int(scale[1] * f + 0.5))
        h, w = results['img'].shape[:2]
        new_w, new_h = rescale_size((h, w), scale, self.keep_ratio)
        sx, sy = new_w / w, new_h / h
        size = (new_w, new_h)
        results['img'] = _resize(results['img'], size, cv2.INTER_LINEAR)
        for key, kind in _map_kinds(results):
            label = results[key]
            if kind.interpolation == 'depth':
                label = resize_depth(label, size, self.depth_interp)
                if self.scale_depth:
                    label = label / np.float32(np.sqrt(sx * sy))
            elif kind.interpolation == 'normal':
                label = resize_normal(label, size)
            elif kind.interpolation == 'nearest':
                label = _resize(label, size, cv2.INTER_NEAREST)
            else:
                label = _resize(label, size, cv2.INTER_LINEAR)
            results[key] = label
        if 'gt_bboxes' in results:
            boxes = np.asarray(results['gt_bboxes'], np.float32).copy()
            boxes[:, 0::2] = np.clip(boxes[:, 0::2] * sx, 0, new_w)
            boxes[:, 1::2] = np.clip(boxes[:, 1::2] * sy, 0, new_h)
            results['gt_bboxes'] = boxes
        old = results.get('scale_factor', (1.0, 1.0))
        results['scale_factor'] = (float(old[0]) * sx, float(old[1]) * sy)
        results['img_shape'] = (new_h, new_w)
        results['keep_ratio'] = self.keep_ratio
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(scale={self.scale}, keep_ratio='
                f'{self.keep_ratio}, depth_interp={self.depth_interp!r})')


_BOX_KEYS = ('gt_bboxes', 'gt_bboxes_labels', 'gt_ignore_flags')


@TRANSFORMS.register_module()
class MTLRandomCrop(BaseTransform):
    """Crop a random ``crop_size=(h, w)`` window from image and labels.

    Boxes are shifted and clipped to the window; boxes left with no area are
    dropped together with their labels and ignore flags. When every box of a
    detection-labelled sample would be lost, up to ``max_tries`` windows are
    drawn before accepting an empty one. A window larger than the image is
    cut to the image.
    """

    def __init__(self, crop_size, max_tries=10, seed=None):
        if isinstance(crop_size, int):
            crop_size = (crop_size, crop_size)
        self.crop_size = tuple(int(s) for s in crop_size)
        self.max_tries = max_tries
        self.rng = WorkerRNG(seed)

    def _window(self, h, w, rng):
        ch, cw = min(self.crop_size[0], h), min(self.crop_size[1], w)
        y0 = int(rng.integers(0, h - ch + 1))
        x0 = int(rng.integers(0, w - cw + 1))
        return y0, x0, ch, cw

    @staticmethod
    def crop_boxes(boxes, y0, x0, ch, cw):
        """Shift, clip; returns (boxes, keep mask of boxes with area)."""
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4) - \
            np.array([x0, y0, x0, y0], np.float32)
        boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, cw)
        boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, ch)
        keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        return boxes, keep

    def transform(self, results):
        keep_original_labels(results)
        h, w = results['img'].shape[:2]
        boxes = results.get('gt_bboxes')
        rng = self.rng(results)
        for _ in range(self.max_tries):
            y0, x0, ch, cw = self._window(h, w, rng)
            if boxes is None or len(boxes) == 0:
                break
            _, keep = self.crop_boxes(boxes, y0, x0, ch, cw)
            if keep.any():
                break
        sl = (slice(y0, y0 + ch), slice(x0, x0 + cw))
        results['img'] = np.ascontiguousarray(results['img'][sl])
        for key, _ in _map_kinds(results):
            results[key] = np.ascontiguousarray(results[key][sl])
        if boxes is not None:
            cropped, keep = self.crop_boxes(boxes, y0, x0, ch, cw)
            results['gt_bboxes'] = cropped[keep]
            for key in _BOX_KEYS[1:]:
                if key in results:
                    results[key] = np.asarray(results[key])[keep]
        results['img_shape'] = (ch, cw)
        results['crop_bbox'] = (x0, y0, x0 + cw, y0 + ch)
        if (ch, cw) != (h, w):
            results[FRAME_CHANGED_BY] = type(self).__name__
        return results


@TRANSFORMS.register_module()
class MTLPad(BaseTransform):
    """Pad image and labels at the bottom/right to ``size=(h, w)`` or to a
    multiple of ``size_divisor``.

    Fill values: image ``pad_val`` (0), label maps ``seg_pad_val`` (255,
    ignore), depth 0 and normals 0 (invalid), clean image 0. Boxes do not
    move. Records ``pad_shape``; ``img_shape`` stays the unpadded size so
    predictions can be cropped back.
    """

    def __init__(self, size=None, size_divisor=None, pad_val=0,
                 seg_pad_val=255):
        if (size is None) == (size_divisor is None):
            raise ValueError('MTLPad: give exactly one of size=(h, w) and '
                             'size_divisor')
        if isinstance(size, int):
            size = (size, size)
        self.size = None if size is None else tuple(int(s) for s in size)
        self.size_divisor = size_divisor
        self.pad_val = pad_val
        self.seg_pad_val = seg_pad_val

    def transform(self, results):
        keep_original_labels(results)
        h, w = results['img'].shape[:2]
        if self.size is not None:
            th, tw = max(h, self.size[0]), max(w, self.size[1])
        else:
            d = self.size_divisor
            th, tw = -(-h // d) * d, -(-w // d) * d
        values = dict(img=self.pad_val, **{
            key: kind.invalid_value(self.seg_pad_val)
            for key, kind in _map_kinds(results)})
        for key, value in values.items():
            if key not in results:
                continue
            arr = results[key]
            pad = [(0, th - h), (0, tw - w)] + [(0, 0)] * (arr.ndim - 2)
            results[key] = np.pad(arr, pad, constant_values=value)
        results.setdefault('img_shape', (h, w))
        results['pad_shape'] = (th, tw)
        return results


@TRANSFORMS.register_module()
class MTLRandomScaleCrop(BaseTransform):
    """mtan-style random scale: crop a window of ``(h / s, w / s)`` at a
    random position and resize it back to ``(h, w)``, ``s`` drawn from
    ``scales``; depth is divided by ``s`` (the zoom seen as the camera moving
    closer), normals keep their direction, boxes are cropped (empty ones
    dropped) and scaled. Composed of :class:`MTLRandomCrop` and
    :class:`MTLResize`, so every label follows the same rules.
    """

    def __init__(self, scales=(1.0, 1.2, 1.5), depth_interp='nearest',
                 seed=None):
        if min(scales) < 1:
            raise ValueError(f'MTLRandomScaleCrop scales={scales} must be '
                             '>= 1 (zoom in)')
        self.scales = tuple(float(s) for s in scales)
        self.depth_interp = depth_interp
        self.rng = WorkerRNG(seed)

    def transform(self, results):
        keep_original_labels(results)
        h, w = results['img'].shape[:2]
        rng = self.rng(results)
        s = self.scales[int(rng.integers(len(self.scales)))]
        ch, cw = max(1, int(h / s)), max(1, int(w / s))
        crop = MTLRandomCrop((ch, cw))
        crop.rng = _Fixed(rng)
        results = crop(results)
        results = MTLResize((w, h), depth_interp=self.depth_interp,
                            scale_depth=True)(results)
        results['zoom'] = s
        return results


class _Fixed:
    """Hands an existing generator to a sub-transform."""

    def __init__(self, gen):
        self.gen = gen

    def __call__(self, results=None):
        return self.gen


@TRANSFORMS.register_module()
class MTLRandomExpand(BaseTransform):
    """SSD-style zoom out: with probability ``prob`` place the image at a
    random position of a canvas ``r`` times larger (``r ~ U(ratio_range)``),
    filled with ``img_fill`` (the mean colour, BGR); labels outside the
    image are invalid (seg 255, depth 0, normals 0, clean image 0); boxes are
    shifted. Depth values are unchanged here: a later resize back to the
    input size with ``MTLResize(scale_depth=True)`` divides them by its zoom
    factor (``1 / r``), i.e. multiplies them by ``r``.
    """

    def __init__(self, ratio_range=(1.0, 2.0), prob=0.5,
                 img_fill=(104, 116, 124), seg_fill=255, seed=None):
        if ratio_range[0] < 1 or ratio_range[1] < ratio_range[0]:
            raise ValueError(f'MTLRandomExpand ratio_range={ratio_range}: '
                             'need 1 <= lo <= hi')
        self.ratio_range = tuple(ratio_range)
        self.prob = prob
        self.img_fill = img_fill
        self.seg_fill = seg_fill
        self.rng = WorkerRNG(seed)

    def transform(self, results):
        keep_original_labels(results)
        rng = self.rng(results)
        if rng.random() >= self.prob:
            return results
        h, w = results['img'].shape[:2]
        r = rng.uniform(*self.ratio_range)
        th, tw = int(h * r), int(w * r)
        y0 = int(rng.integers(0, th - h + 1))
        x0 = int(rng.integers(0, tw - w + 1))
        fills = {key: kind.invalid_value(self.seg_fill)
                 for key, kind in _map_kinds(results)}
        img = results['img']
        canvas = np.empty((th, tw) + img.shape[2:], img.dtype)
        canvas[...] = (np.asarray(self.img_fill, img.dtype)[:img.shape[2]]
                       if img.ndim == 3 else self.img_fill[0])
        canvas[y0:y0 + h, x0:x0 + w] = img
        results['img'] = canvas
        for key, fill in fills.items():
            if key in results:
                arr = results[key]
                out = np.full((th, tw) + arr.shape[2:], fill, arr.dtype)
                out[y0:y0 + h, x0:x0 + w] = arr
                results[key] = out
        if 'gt_bboxes' in results:
            results['gt_bboxes'] = np.asarray(
                results['gt_bboxes'], np.float32) + np.array(
                    [x0, y0, x0, y0], np.float32)
        results['img_shape'] = (th, tw)
        results[FRAME_CHANGED_BY] = type(self).__name__
        return results
