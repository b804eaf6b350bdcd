"""Loading of images and of every task's labels named by a data info.

A dataset's ``load_data_list`` only *names* files; these transforms read them,
so a worker process does the decoding. Keys read from ``results`` (all
optional except the image path):

==========================  =================================================
``img_path``                 image (jpg/png/...; ``.npy`` HWC RGB float in
                             [0, 1] or uint8, as the mtan NYUv2 layout)
``instances``                list of ``dict(bbox=[x1, y1, x2, y2],
                             bbox_label=int, ignore_flag=0/1)`` (an
                             inverted box, ``x2 < x1``, is an error) ->
                             ``gt_bboxes`` [N, 4] float32, ``gt_bboxes_labels``
                             [N] int64, ``gt_ignore_flags`` [N] bool
``seg_map_path``             png (palette indices, read with PIL) or npy;
                             ``reduce_zero_label``: 0 -> 255, k -> k - 1;
                             negative values -> 255 -> ``gt_seg_map`` uint8;
                             an RGB colour PNG is an error unless
                             ``seg_palette`` maps its colours to classes
``depth_path``               png (16-bit; an 8-bit one is an error unless
                             ``allow_8bit_depth``) or npy, divided by
                             ``depth_scale`` (1000 for millimetre PNGs),
                             NaN/inf/<=0 -> 0 (invalid) -> ``gt_depth`` HW
                             float32 metres
``normal_path``              npy HW3 in [-1, 1] or png (``n = 2 v / 255 - 1``,
                             RGB = xyz, black = invalid); renormalised,
                             near-zero -> 0 (invalid)
                             -> ``gt_normal`` HW3 float32
``clean_img_path``           enhancement target image -> ``gt_clean_img`` HW3
                             uint8 BGR (must match the input's size)
``saliency_path``            png, ``v > 127`` -> 1 -> ``gt_saliency`` uint8
``edge_path``                png/npy, ``v > 0`` -> 1 -> ``gt_edge`` uint8
``parts_path``               png/npy part indices -> ``gt_parts`` uint8
                             (index maps as ``seg_map_path``)
``gt_label``                 int or list, passed through (classification)
==========================  =================================================

Any unreadable file raises :class:`~mtlbox.datasets.base.CorruptSampleError`
naming it (the dataset turns that into a skip when ``skip_invalid=True``), as
does a file that would be read wrong (docs/datasets.md#rejected-corrected):
an index map (seg, parts) stored as an RGB colour image, label values above
255, an 8-bit depth PNG.
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


def voc_palette() -> np.ndarray:
    """VOC's colour map [256, 3] (RGB): the bits of index ``i`` are dealt
    out to R, G, B from the most significant bit down; 255 (boundary /
    ignore) is (224, 224, 192)."""
    idx = np.arange(256)
    pal = np.zeros((256, 3), np.int64)
    for j in range(8):
        for c in range(3):
            pal[:, c] |= ((idx >> (3 * j + c)) & 1) << (7 - j)
    return pal.astype(np.uint8)


def palette_lookup(palette) -> dict:
    """``{(r, g, b): index}`` of a ``seg_palette`` option: ``'voc'``, a
    sequence of RGB colours (the index is the position) or a dict
    ``{index: (r, g, b)}``."""
    if isinstance(palette, str):
        if palette != 'voc':
            raise ValueError(f"seg_palette={palette!r}: use 'voc', a list of "
                             'RGB colours or a dict {index: (r, g, b)}')
        palette = voc_palette()
    items = (palette.items() if isinstance(palette, dict) else
             enumerate(palette))
    lookup = {}
    for index, colour in items:
        colour = tuple(int(c) for c in colour)
        if len(colour) != 3 or not 0 <= int(index) <= 255:
            raise ValueError(f'seg_palette entry {index}: {colour} is not an '
                             'index 0..255 with an (r, g, b) colour')
        lookup.setdefault(colour, int(index))  # the first index wins
    return lookup


def colours_to_index(path: str, rgb: np.ndarray, lookup: dict) -> np.ndarray:
    """Class index of every pixel of an HW3 RGB image via ``lookup``; a
    colour not in it is an error naming the file and the colours."""
    code = ((rgb[..., 0].astype(np.int64) << 16)
            | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2])
    values, inverse = np.unique(code, return_inverse=True)
    table = {(k >> 16 & 255, k >> 8 & 255, k & 255) for k in values.tolist()}
    unknown = sorted(table - set(lookup))
    if unknown:
        counts = {c: int((code == (c[0] << 16 | c[1] << 8 | c[2])).sum())
                  for c in unknown[:5]}
        raise CorruptSampleError(
            f'{path}: colours {list(counts)} (pixels {list(counts.values())})'
            ' are not in seg_palette; add them to the palette or save the '
            'mask as palette indices')
    index = np.array([lookup[(k >> 16 & 255, k >> 8 & 255, k & 255)]
                      for k in values.tolist()], np.int64)
    return index[inverse.reshape(code.shape)]


def read_label_map(path: str, palette=None, index: bool = True
                   ) -> np.ndarray:
    """Integer label map: palette/grey PNG indices (PIL keeps the palette
    index, OpenCV would return colours) or an npy array.

    An RGB(A) PNG of an index map (``index=True``: seg, parts) is read
    through ``palette`` (see :func:`palette_lookup`) when given, taken as
    is when its three channels are equal (grey stored as RGB), and
    otherwise rejected: converting colours to grey invents classes (VOC's
    person (192, 128, 128) would become 147). Binary maps
    (``index=False``: saliency, edges) are converted to grey, as they are
    thresholded.
    """
    if path.endswith('.npy'):
        arr = read_npy(path)
        return arr[..., 0] if arr.ndim == 3 else arr
    try:
        with Image.open(path) as im:
            mode = im.mode
            if mode in ('LA', 'PA'):  # the alpha band is not a label
                im = im.getchannel(0)
            if mode in ('RGB', 'RGBA', 'RGBX') and index:
                arr = np.array(im.convert('RGB'))
            elif mode in ('RGB', 'RGBA', 'RGBX', 'CMYK', 'YCbCr', 'HSV'):
                arr = np.array(im.convert('L'))
            else:
                arr = np.array(im)
    except (OSError, ValueError, SyntaxError) as err:
        raise CorruptSampleError(f'{path}: not a readable label PNG '
                                 f'({err})') from err
    if arr.ndim == 3:
        if palette is not None:
            return colours_to_index(path, arr, palette_lookup(palette))
        if (arr == arr[..., :1]).all():
            return arr[..., 0]
        raise CorruptSampleError(
            f"{path}: label map is an image of mode {mode!r} (colours), not "
            'class indices; converting colours to grey would invent classes.'
            " Save the mask as a palette ('P') or grey PNG of class indices "
            "(VOC's SegmentationClass PNGs are palette PNGs), or map the "
            "colours with LoadMTLAnnotations(seg_palette='voc') or "
            'seg_palette={index: (r, g, b), ...}')
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
        seg_palette: colour -> class map for segmentation / parts masks
            stored as RGB colour images: ``'voc'`` (VOC's colour map, its
            (224, 224, 192) boundary -> 255), a list of RGB colours (index =
            position) or ``{index: (r, g, b)}``. A colour outside it is an
            error. Palette ('P') and grey PNGs are read as indices
            regardless. Default None: a colour mask is an error.
        allow_8bit_depth: accept 8-bit depth PNGs (value / ``depth_scale``)
            for datasets that really store depth so; by default an 8-bit
            depth PNG is an error (a millimetre depth saved as 8-bit is
            clipped at 255 mm).
    """

    _TASK_OF = dict(instances='det', seg_map_path='seg', depth_path='depth',
                    normal_path='normal', clean_img_path='enhance',
                    saliency_path='saliency', edge_path='edge',
                    parts_path='parts', gt_label='cls')

    def __init__(self, only_labeled: bool = True, seg_palette=None,
                 allow_8bit_depth: bool = False):
        self.only_labeled = only_labeled
        if seg_palette is not None:
            palette_lookup(seg_palette)  # a bad option fails at build time
        self.seg_palette = seg_palette
        self.allow_8bit_depth = allow_8bit_depth

    def _wanted(self, results, key):
        if key not in results or results[key] is None:
            return False
        return (not self.only_labeled
                or self._TASK_OF[key] in results.get('labeled_tasks', ()))

    def transform(self, results):
        shape = results['img'].shape[:2] if 'img' in results else None
        if self._wanted(results, 'instances'):
            self._check_declared_size(results, shape)
            self._load_instances(results)
        if self._wanted(results, 'seg_map_path'):
            path = results['seg_map_path']
            seg = self._index_map(path)
            if results.get('reduce_zero_label', False):
                seg = np.where(seg == 0, 256, seg) - 1
            seg[(seg < 0) | (seg > 255)] = 255
            results['gt_seg_map'] = self._check(seg.astype(np.uint8), shape,
                                                path)
        if self._wanted(results, 'depth_path'):
            path = results['depth_path']
            scale = float(results.get('depth_scale', 1.0))
            depth = self._depth(path, scale) / scale
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
            sal = read_label_map(results['saliency_path'], index=False)
            results['gt_saliency'] = self._check(
                (sal > 127).astype(np.uint8), shape, results['saliency_path'])
        if self._wanted(results, 'edge_path'):
            edge = read_label_map(results['edge_path'], index=False)
            results['gt_edge'] = self._check(
                (edge > 0).astype(np.uint8), shape, results['edge_path'])
        if self._wanted(results, 'parts_path'):
            parts = self._index_map(results['parts_path'])
            parts[parts < 0] = 255
            results['gt_parts'] = self._check(
                parts.astype(np.uint8), shape, results['parts_path'])
        return results

    def _index_map(self, path):
        """Class indices (int64) of a seg/parts file; values above 255 (a
        16-bit PNG, an npy array) cannot be stored and are an error rather
        than turned into ignore."""
        arr = read_label_map(path, self.seg_palette).astype(np.int64)
        if arr.size and arr.max() > 255:
            values = np.unique(arr[arr > 255])
            raise CorruptSampleError(
                f'{path}: label values {values[:5].tolist()} are above 255 '
                '(labels are 0..254 with 255 = ignore); remap the classes')
        return arr

    def _depth(self, path, scale):
        """Raw depth values HW float32 of an npy or single-channel PNG."""
        if path.endswith('.npy'):
            depth = np.asarray(read_npy(path), np.float32)
            if depth.ndim == 3 and depth.shape[2] == 1:
                depth = depth[..., 0]
        else:
            raw = read_image(path, 'unchanged')
            if raw.dtype == np.uint8 and not self.allow_8bit_depth:
                raise CorruptSampleError(
                    f'{path}: depth PNG is 8-bit (values 0..255, max '
                    f'{int(raw.max())}), but depth is read as a 16-bit PNG '
                    f'divided by depth_scale={scale:g} (1000: millimetres);'
                    ' an 8-bit copy clips depth at 255 units. Re-save it as '
                    '16-bit, e.g. cv2.imwrite(path, depth_mm.astype('
                    'np.uint16)); if the dataset really stores 8-bit depth, '
                    'set LoadMTLAnnotations(allow_8bit_depth=True) and the '
                    "dataset's depth_scale to its units per metre")
            depth = np.asarray(raw, np.float32)
        if depth.ndim != 2:
            raise CorruptSampleError(
                f'{path}: depth must be one channel (HxW), got shape '
                f'{depth.shape}')
        return depth

    @staticmethod
    def _check(arr, shape, path):
        if shape is not None and tuple(arr.shape[:2]) != tuple(shape):
            raise CorruptSampleError(
                f'{path}: label is {arr.shape[0]}x{arr.shape[1]} but the '
                f'image is {shape[0]}x{shape[1]}')
        return arr

    @staticmethod
    def _check_declared_size(results, shape):
        """The readers clip boxes to the size the annotation declares (VOC
        ``<size>``, COCO ``images[].width/height``) without decoding the
        image; a decoded image of another size (a wrong annotation, an
        EXIF-rotated photo) would leave boxes outside it or cut short."""
        width, height = results.get('width'), results.get('height')
        if shape is None or not width or not height:
            return
        if (int(height), int(width)) != tuple(shape):
            raise CorruptSampleError(
                f'{results.get("img_path")}: the annotation gives the image '
                f'as {int(width)}x{int(height)} (width x height) but the '
                f'file decodes to {shape[1]}x{shape[0]}; its boxes were '
                'clipped to the annotation\'s size. Fix the size in the '
                'annotation (VOC <size>, COCO images[].width/height) or '
                'the image (an EXIF orientation tag rotates it on decoding)')

    @staticmethod
    def _load_instances(results):
        instances = results['instances']
        boxes = np.array([i['bbox'] for i in instances],
                         np.float32).reshape(-1, 4)
        inverted = np.nonzero((boxes[:, 2] < boxes[:, 0])
                              | (boxes[:, 3] < boxes[:, 1]))[0]
        if inverted.size:  # the official readers reject these earlier
            k = int(inverted[0])
            raise CorruptSampleError(
                f'{results.get("img_path")}: box {k} of "instances" is '
                f'inverted, xyxy {boxes[k].tolist()} (needs x1 <= x2 and '
                'y1 <= y2); fix the dataset that produced it')
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
