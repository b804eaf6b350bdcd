"""PASCAL VOC 2007/2012: detection and semantic segmentation.

Layout (``data_root`` = ``VOCdevkit/VOC2012`` or ``.../VOC2007``)::

    JPEGImages/<id>.jpg
    Annotations/<id>.xml                 detection (objects, difficult flag)
    ImageSets/Main/<split>.txt           ids with detection labels
    ImageSets/Segmentation/<split>.txt   ids with segmentation labels
    SegmentationClass/<id>.png           palette PNG, 0 background, 1..20
                                         classes, 255 boundary/ignore
    SegmentationClassAug/<id>.png        (optional) the augmented set (SBD)

A sample carries the labels that exist for it: ``det`` when its id is in the
detection list, ``seg`` when it is in the segmentation list. Boxes: VOC's
1-based inclusive pixel indices ``xmin..xmax`` become the continuous xyxy box
``(xmin - 1, ymin - 1, xmax, ymax)``; ``difficult=1`` -> ``ignore_flag``.
Detection labels are 0..19 (``METAINFO['classes']``); the segmentation map
keeps VOC's values (0 = background, 1..20 = the classes, 255 = ignore).

Bad boxes (docs/datasets.md#rejected-corrected): a box with ``xmax < xmin``
or ``ymax < ymin`` (inverted, no pixel) or one entirely outside the image
is an error naming the file, the object's index and its values (with
``skip_invalid=True`` the image's detection label is skipped and counted);
a box partly outside the image (``<size>`` of the XML) is clipped to it, and
the dataset logs one warning with the count and examples
(``num_clipped``).
"""
import logging
import os.path as osp
import xml.etree.ElementTree as ET
from typing import List, Optional, Sequence

from mmengine.logging import print_log

from mtlbox.registry import DATASETS

from .base import CorruptSampleError, MTLBaseDataset

VOC_CLASSES = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car',
               'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse',
               'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train',
               'tvmonitor')


def clip_box(box: Sequence[float], width, height):
    """``box`` (xyxy) clipped to ``[0, width] x [0, height]`` (unchanged when
    the size is unknown); None when nothing of it is inside."""
    if not width or not height:
        return list(box)
    x1, y1 = max(box[0], 0.0), max(box[1], 0.0)
    x2, y2 = min(box[2], float(width)), min(box[3], float(height))
    if x2 <= x1 or y2 <= y1:
        return None
    return [x1, y1, x2, y2]


def log_box_corrections(dataset, clipped: Sequence[str], dropped=()):
    """One warning per dataset: how many boxes were clipped to the image
    (and dropped for being under one pixel), with examples."""
    name = f'{type(dataset).__name__} ({dataset.data_root})'
    if clipped:
        print_log(f'{name}: clipped {len(clipped)} boxes to the image (they '
                  f'were partly outside it), e.g. {list(clipped[:3])}; see '
                  'docs/datasets.md#rejected-corrected', logger='current',
                  level=logging.WARNING)
    if dropped:
        print_log(f'{name}: dropped {len(dropped)} boxes under one pixel '
                  f'wide or high, e.g. {list(dropped[:3])}', logger='current',
                  level=logging.WARNING)


def parse_voc_xml(path: str, classes: Sequence[str],
                  unknown: str = 'error') -> dict:
    """Objects of one VOC XML: ``dict(width, height, instances=[...],
    clipped=[...])``.

    ``unknown``: what to do with an object whose name is not in ``classes``:
    ``'error'`` (raise naming file and name) or ``'skip'``.
    Raises :class:`CorruptSampleError` naming the file (and the parser's
    line) for malformed XML, and naming the file, the object's index (0-based,
    in file order) and its values for an inverted box (``xmax < xmin`` or
    ``ymax < ymin``) or one entirely outside ``<size>``. Boxes partly
    outside are clipped; ``clipped`` describes each.
    """
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise CorruptSampleError(
            f'{path}: malformed XML (line {err.position[0]}: {err})') from err
    except OSError as err:
        raise CorruptSampleError(f'{path}: cannot be read ({err})') from err
    size = root.find('size')
    width = height = None
    if size is not None:
        width = int(float(size.findtext('width', '0'))) or None
        height = int(float(size.findtext('height', '0'))) or None
    index = {c: i for i, c in enumerate(classes)}
    instances, clipped = [], []
    for k, obj in enumerate(root.iter('object')):
        name = (obj.findtext('name') or '').strip()
        if name not in index:
            if unknown == 'skip':
                continue
            raise CorruptSampleError(
                f'{path}: object name {name!r} is not one of the classes '
                f'{list(classes)}')
        box = obj.find('bndbox')
        if box is None:
            raise CorruptSampleError(f'{path}: object {name!r} has no bndbox')
        keys = ('xmin', 'ymin', 'xmax', 'ymax')
        try:
            x1, y1, x2, y2 = (float(box.findtext(key)) for key in keys)
        except (TypeError, ValueError) as err:
            raise CorruptSampleError(
                f'{path}: object {k} ({name!r}) has a bad bndbox '
                f'({err})') from err
        values = ' '.join(f'{key}={box.findtext(key).strip()}'
                          for key in keys)
        if x2 < x1 or y2 < y1:  # 1-based inclusive: xmin == xmax is 1 px
            raise CorruptSampleError(
                f'{path}: object {k} ({name!r}) has an inverted box '
                f'{values} (needs xmin <= xmax and ymin <= ymax); fix the '
                'annotation')
        bbox = clip_box([x1 - 1, y1 - 1, x2, y2], width, height)
        if bbox is None:
            raise CorruptSampleError(
                f'{path}: object {k} ({name!r}) box {values} lies outside '
                f'the image ({width}x{height}); fix the annotation')
        if bbox != [x1 - 1, y1 - 1, x2, y2]:
            clipped.append(f'{path} object {k} {values} -> xyxy {bbox}')
        difficult = int(float(obj.findtext('difficult', '0') or 0))
        instances.append(dict(bbox=bbox, bbox_label=index[name],
                              ignore_flag=int(difficult > 0)))
    return dict(width=width, height=height, instances=instances,
                clipped=clipped)


@DATASETS.register_module()
class VOCMTLDataset(MTLBaseDataset):
    """PASCAL VOC detection + segmentation (layout in the module docstring).

    Args:
        data_root: ``VOCdevkit/VOC2007`` or ``VOCdevkit/VOC2012``.
        split: image-set name (``train``, ``val``, ``trainval``, ``test``).
        tasks: which of ``('det', 'seg')`` to load.
        det_split_file / seg_split_file: image-set lists relative to
            ``data_root`` (default ``ImageSets/Main/<split>.txt`` and
            ``ImageSets/Segmentation/<split>.txt``); a missing list file is
            an error for a requested task.
        seg_dir: ``SegmentationClass`` or ``SegmentationClassAug``.
        img_dir / ann_dir: image and XML folders.
        filter_empty_det: drop detection labels of images whose objects are
            all outside ``classes`` (a sample with no labels left is dropped).
        **kwargs: see :class:`MTLBaseDataset` (``skip_invalid``, ``source``,
            ``pipeline`` ...).
    """

    METAINFO = dict(classes=VOC_CLASSES,
                    seg_classes=('background', ) + VOC_CLASSES,
                    seg_ignore_index=255)
    LAYOUT = 'voc'
    SOURCE = 'VOC'

    def __init__(self, data_root: str = '', split: str = 'train',
                 tasks: Sequence[str] = ('det', 'seg'),
                 det_split_file: Optional[str] = None,
                 seg_split_file: Optional[str] = None,
                 seg_dir: str = 'SegmentationClass',
                 img_dir: str = 'JPEGImages', ann_dir: str = 'Annotations',
                 **kwargs):
        bad = set(tasks) - {'det', 'seg'}
        if bad or not tasks:
            raise ValueError(f'VOCMTLDataset tasks={list(tasks)}: choose from '
                             "('det', 'seg')")
        self.split = split
        self.tasks = tuple(tasks)
        self.det_split_file = det_split_file or f'ImageSets/Main/{split}.txt'
        self.seg_split_file = (seg_split_file
                               or f'ImageSets/Segmentation/{split}.txt')
        self.seg_dir, self.img_dir, self.ann_dir = seg_dir, img_dir, ann_dir
        self.num_clipped = 0
        super().__init__(data_root=data_root, **kwargs)

    def load_samples(self) -> List[dict]:
        img_dir = self.require(self.path(self.img_dir), 'dir')
        samples = {}
        order = []

        def entry(img_id):
            if img_id not in samples:
                order.append(img_id)
                samples[img_id] = dict(
                    img_id=img_id,
                    img_path=osp.join(img_dir, img_id + '.jpg'),
                    labeled_tasks=[])
            return samples[img_id]

        classes = self.metainfo['classes']
        clipped = []
        if 'det' in self.tasks:
            ann_dir = self.require(self.path(self.ann_dir), 'dir')
            for img_id in self.read_list(self.path(self.det_split_file)):
                img_id = img_id.split()[0]
                xml = osp.join(ann_dir, img_id + '.xml')
                ann = self.guarded(parse_voc_xml, xml, classes,
                                   what=xml) if osp.isfile(xml) else None
                if ann is None:
                    if not osp.isfile(xml):
                        self.invalid(f'{xml}: annotation listed in '
                                     f'{self.det_split_file} is missing')
                    continue
                clipped += ann['clipped']
                info = entry(img_id)
                info.update(instances=ann['instances'],
                            width=ann['width'], height=ann['height'])
                info['labeled_tasks'].append('det')
        if 'seg' in self.tasks:
            seg_dir = self.require(self.path(self.seg_dir), 'dir')
            for img_id in self.read_list(self.path(self.seg_split_file)):
                img_id = img_id.split()[0]
                png = osp.join(seg_dir, img_id + '.png')
                if not osp.isfile(png):
                    self.invalid(f'{png}: segmentation listed in '
                                 f'{self.seg_split_file} is missing')
                    continue
                info = entry(img_id)
                info['seg_map_path'] = png
                info['labeled_tasks'].append('seg')
        self.num_clipped = len(clipped)
        log_box_corrections(self, clipped)
        return [samples[i] for i in order]
