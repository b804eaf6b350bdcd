"""Loading of images and of every task's labels named by a data info.

A dataset's ``load_data_list`` only *names* files; these transforms read them,
so a worker process does the decoding. Keys read from ``results`` (all
optional except the image path):

==========================  =================================================
``img_path``                 image (jpg/png/...; ``.npy`` HWC RGB float in
                             [0, 1] or uint8, as the mtan NYUv2 layout)
``instances``                list of ``dict(bbox=[x1, y1, x2, y2],
                             bbox_label=int, ignore_flag=0/1)`` ->
                             ``gt_bboxes`` [N, 4] float32, ``gt_bboxes_labels``
                             [N] int64, ``gt_ignore_flags`` [N] bool
``seg_map_path``             png (palette indices, read with PIL) or npy;
                             ``reduce_zero_label``: 0 -> 255, k -> k - 1;
                             negative values -> 255 -> ``gt_seg_map`` uint8
``depth_path``               png (uint16) or npy, divided by ``depth_scale``
                             (1000 for millimetre PNGs), NaN/inf/<=0 -> 0
                             (invalid) -> ``gt_depth`` HW float32 metres
``normal_path``              npy HW3 in [-1, 1] or png (``n = 2 v / 255 - 1``,
                             RGB = xyz, black = invalid); renormalised,
                             near-zero -> 0 (invalid)
                             -> ``gt_normal`` HW3 float32
``clean_img_path``           enhancement target image -> ``gt_clean_img`` HW3
                             uint8 BGR (must match the input's size)
``saliency_path``            png, ``v > 127`` -> 1 -> ``gt_saliency`` uint8
``edge_path``                png/npy, ``v > 0`` -> 1 -> ``gt_edge`` uint8
``parts_path``               png/npy part indices -> ``gt_parts`` uint8
``gt_label``                 int or list, passed through (classification)
==========================  =================================================

Any unreadable file raises :class:`~mtlbox.datasets.base.CorruptSampleError`
naming it (the dataset turns that into a skip when ``skip_invalid=True``).
"""
import os.path as osp

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from PIL import Image

from mtlbox.datasets.base import CorruptSampleError
from mtlbox.registry import TRANSFORMS


def _read_bytes(path):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except OSError as err:
        raise CorruptSampleError(f'{path}: cannot be read ({err})') from err


def read_image(path: str, color_type: str = 'color') -> np.ndarray:
    """HWC uint8 BGR (``color``), HW (``grayscale``) or as stored
    (``unchanged``; e.g. uint16 depth PNGs)."""
    if path.endswith('.npy'):
        arr = read_npy(path)
        if arr.dtype != np.uint8:
            arr = (np.clip(arr, 0, 1) * 255 + 0.5).astype(np.uint8)
        if arr.ndim == 3 and color_type == 'color':
            arr = np.ascontiguousarray(arr[..., ::-1])  # stored RGB
        return arr
    flag = dict(color=cv2.IMREAD_COLOR, grayscale=cv2.IMREAD_GRAYSCALE,
                unchanged=cv2.IMREAD_UNCHANGED)[color_type]
    buf = np.frombuffer(_read_bytes(path), np.uint8)
    img = cv2.imdecode(buf, flag) if buf.size else None
    if img is None:
        raise CorruptSampleError(f'{path}: not a decodable image (corrupt or '
                                 'truncated file?)')
    return img


def read_npy(path: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise CorruptSampleError(f'{path}: not a readable .npy array '
                                 f'({err})') from err


def read_label_map(path: str) -> np.ndarray:
    """Integer label map: palette/grey PNG indices (PIL keeps the palette
    index, OpenCV would return colours) or an npy array."""
    if path.endswith('.npy'):
        arr = read_npy(path)
        return arr[..., 0] if arr.ndim == 3 else arr
    try:
        with Image.open(path) as im:
            if im.mode in ('RGB', 'RGBA'):
                im = im.convert('L')
            arr = np.array(im)
    except (OSError, ValueError, SyntaxError) as err:
        raise CorruptSampleError(f'{path}: not a readable label PNG '
                                 f'({err})') from err
    return arr


@TRANSFORMS.register_module()
class LoadMTLImageFromFile(BaseTransform):
    """Read ``results['img_path']`` into ``img`` (HWC uint8 BGR).

    Drop-in for mmcv's ``LoadImageFromFile`` (same ``to_float32``,
    ``color_type`` and ``ignore_empty``; ``imdecode_backend`` and
    ``backend_args`` are accepted, decoding is OpenCV on local files; sets
    ``img_shape``/``ori_shape``) that also reads ``.npy`` images and reports
    unreadable files as ``CorruptSampleError`` naming the file. A sample
    that already carries ``img`` (in-memory datasets) is left as it is.
    ``ignore_empty=True`` returns None for a missing file (mmengine then
    draws another sample in training).
    """

    def __init__(self, to_float32: bool = False, color_type: str = 'color',
                 ignore_empty: bool = False, imdecode_backend: str = 'cv2',
                 backend_args=None):
        if color_type not in ('color', 'grayscale', 'unchanged'):
            raise ValueError(f'LoadMTLImageFromFile color_type={color_type!r}'
                             ": use 'color', 'grayscale' or 'unchanged'")
        self.to_float32 = to_float32
        self.color_type = color_type
        self.ignore_empty = ignore_empty

    def transform(self, results):
        if results.get('img') is None:
            if 'img_path' not in results:
                raise KeyError('LoadMTLImageFromFile: results has neither '
                               '"img" nor "img_path" (keys: '
                               f'{sorted(results)})')
            if self.ignore_empty and not osp.isfile(results['img_path']):
                return None
            img = read_image(results['img_path'], self.color_type)
            if img.ndim == 2 and self.color_type == 'color':
                img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
            results['img'] = img
        img = results['img']
        if self.to_float32:
            results['img'] = img.astype(np.float32)
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results


@TRANSFORMS.register_module()
class LoadMTLAnnotations(BaseTransform):
    """Read every label file the data info names (table in module doc).

    Args:
        only_labeled: read only the labels of tasks in ``labeled_tasks``
            (default), so a source restricted by a partial composition does
            not pay for labels it will not use.
    """

    _TASK_OF = dict(instances='det', seg_map_path='seg', depth_path='depth',
                    normal_path='normal', clean_img_path='enhance',
                    saliency_path='saliency', edge_path='edge',
                    parts_path='parts', gt_label='cls')

    def __init__(self, only_labeled: bool = True):
        self.only_labeled = only_labeled

    def _wanted(self, results, key):
        if key not in results or results[key] is None:
            return False
        return (not self.only_labeled
                or self._TASK_OF[key] in results.get('labeled_tasks', ()))

    def transform(self, results):
        shape = results['img'].shape[:2] if 'img' in results else None
        if self._wanted(results, 'instances'):
            self._load_instances(results)
        if self._wanted(results, 'seg_map_path'):
            seg = read_label_map(results['seg_map_path']).astype(np.int64)
            if results.get('reduce_zero_label', False):
                seg = np.where(seg == 0, 256, seg) - 1
            seg[(seg < 0) | (seg > 255)] = 255
            results['gt_seg_map'] = self._check(seg.astype(np.uint8), shape,
                                                results['seg_map_path'])
        if self._wanted(results, 'depth_path'):
            path = results['depth_path']
            raw = (read_npy(path) if path.endswith('.npy') else
                   read_image(path, 'unchanged'))
            depth = np.asarray(raw, np.float32)
            if depth.ndim == 3:
                depth = depth[..., 0]
            depth = depth / float(results.get('depth_scale', 1.0))
            depth[~np.isfinite(depth) | (depth < 0)] = 0
            results['gt_depth'] = self._check(depth, shape, path)
        if self._wanted(results, 'normal_path'):
            results['gt_normal'] = self._check(
                load_normal(results['normal_path']), shape,
                results['normal_path'])
        if self._wanted(results, 'clean_img_path'):
            results['gt_clean_img'] = self._check(
                read_image(results['clean_img_path'], 'color'), shape,
                results['clean_img_path'])
        if self._wanted(results, 'saliency_path'):
            sal = read_label_map(results['saliency_path'])
            results['gt_saliency'] = self._check(
                (sal > 127).astype(np.uint8), shape, results['saliency_path'])
        if self._wanted(results, 'edge_path'):
            edge = read_label_map(results['edge_path'])
            results['gt_edge'] = self._check(
                (edge > 0).astype(np.uint8), shape, results['edge_path'])
        if self._wanted(results, 'parts_path'):
            parts = read_label_map(results['parts_path']).astype(np.int64)
            parts[(parts < 0) | (parts > 255)] = 255
            results['gt_parts'] = self._check(
                parts.astype(np.uint8), shape, results['parts_path'])
        return results

    @staticmethod
    def _check(arr, shape, path):
        if shape is not None and tuple(arr.shape[:2]) != tuple(shape):
            raise CorruptSampleError(
                f'{path}: label is {arr.shape[0]}x{arr.shape[1]} but the '
                f'image is {shape[0]}x{shape[1]}')
        return arr

    @staticmethod
    def _load_instances(results):
        instances = results['instances']
        boxes = np.array([i['bbox'] for i in instances],
                         np.float32).reshape(-1, 4)
        results['gt_bboxes'] = boxes
        results['gt_bboxes_labels'] = np.array(
            [i['bbox_label'] for i in instances], np.int64)
        results['gt_ignore_flags'] = np.array(
            [bool(i.get('ignore_flag', 0)) for i in instances], bool)


def load_normal(path: str) -> np.ndarray:
    """Unit normals HW3 (x right, y down, z forward); invalid -> 0."""
    if path.endswith('.npy'):
        normal = np.asarray(read_npy(path), np.float32)
    else:
        img = read_image(path, 'color')
        normal = img[..., ::-1].astype(np.float32) * (2.0 / 255.0) - 1.0
        normal[img.max(-1) == 0] = 0  # black pixels: no normal
    if normal.ndim != 3 or normal.shape[2] != 3:
        raise CorruptSampleError(f'{path}: normals must be HxWx3, got '
                                 f'{normal.shape}')
    return renormalize(normal)


def renormalize(normal: np.ndarray, min_norm: float = 0.5) -> np.ndarray:
    """Scale to unit length; vectors shorter than ``min_norm`` (all-zero =
    invalid, or blends of invalid pixels) become 0."""
    norm = np.linalg.norm(normal, axis=-1, keepdims=True)
    valid = norm > min_norm
    out = np.where(valid, normal / np.maximum(norm, 1e-12), 0)
    return out.astype(np.float32)


def exists(path):
    return path is not None and osp.isfile(path)
