"""Underwater detection, enhancement and synthetic underwater data.

Detection
    :class:`UnderwaterCocoDataset`: COCO JSON as DUO and RUOD ship them
    (``annotations/instances_<split>.json`` + ``images/<split>/``; RUOD:
    ``RUOD_ANN/instances_<split>.json`` + ``RUOD_pic/<split>/``), read with
    pycocotools. ``bbox [x, y, w, h]`` -> xyxy; ``iscrowd=1`` -> ignore flag;
    labels 0..C-1 in category-id order (or in ``metainfo['classes']`` order
    when given). A ``category_id`` missing from ``categories``, or a box
    with ``w <= 0`` or ``h <= 0`` or entirely outside the image, is an error
    naming the file and the annotation id (``skip_invalid=True``: the image
    is skipped and counted); boxes partly outside the image are clipped and
    boxes under one pixel dropped, each counted in one warning.
    :class:`URPCDataset`: VOC XML as URPC ships it (``Annotations/*.xml``,
    ``JPEGImages/*.jpg``, optional ``ImageSets/Main/<split>.txt``), classes
    holothurian, echinus, scallop, starfish (other names, e.g. waterweeds,
    are skipped). Bad boxes as :func:`~mtlbox.datasets.voc.parse_voc_xml`.

Enhancement (task ``enhance``: input = raw, ``gt_clean_img`` = reference)
    :class:`UIEBDataset`: ``raw-890/<name>`` and ``reference-890/<name>``.
    :class:`EUVPPairedDataset`: ``<subset>/trainA/<name>`` (raw) and
    ``<subset>/trainB/<name>`` (clean), subsets ``underwater_dark``,
    ``underwater_imagenet``, ``underwater_scenes``.

Synthetic
    :class:`SynthUnderwaterRGBD`: any RGB-D source (NYUv2 ...) degraded by
    ``I_c = J_c exp(-beta_c d) + B_c (1 - exp(-beta_c d))``
    (:func:`mtlbox.datasets.synth_scenes.underwater`) with a water type drawn
    per sample; the clean image becomes the ``enhance`` label and the
    source's labels (depth, seg, det ...) are kept.
"""
import contextlib
import io
import json
import os
import os.path as osp
from typing import List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset

from mtlbox.registry import DATASETS

from .base import (CorruptSampleError, MTLBaseDataset, fetch_skipping_invalid,
                   list_files, with_test_mode)
from .synth_scenes import WATER_TYPES, underwater
from .transforms.geometric import ORIGINAL_LABELS
from .voc import clip_box, log_box_corrections, parse_voc_xml

URPC_CLASSES = ('holothurian', 'echinus', 'scallop', 'starfish')
RUOD_CLASSES = ('holothurian', 'echinus', 'scallop', 'starfish', 'fish',
                'corals', 'diver', 'cuttlefish', 'turtle', 'jellyfish')
_IMG_EXTS = ('.jpg', '.jpeg', '.png', '.bmp')


def load_coco_json(path: str):
    """pycocotools ``COCO`` of ``path``; malformed JSON names file and line."""
    from pycocotools.coco import COCO
    try:
        with open(path) as f:
            data = json.load(f)
    except json.JSONDecodeError as err:
        raise CorruptSampleError(
            f'{path}: malformed JSON (line {err.lineno} column {err.colno}: '
            f'{err.msg})') from err
    for key in ('images', 'annotations', 'categories'):
        if key not in data:
            raise CorruptSampleError(f'{path}: COCO JSON has no {key!r} list')
    coco = COCO()
    coco.dataset = data
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints
        coco.createIndex()
    return coco


@DATASETS.register_module()
class UnderwaterCocoDataset(MTLBaseDataset):
    """Underwater detection in COCO JSON (DUO, RUOD).

    Args:
        ann_file: the JSON, relative to ``data_root``.
        img_dir: folder of the images (``file_name`` is relative to it).
        filter_empty: drop images without any box (off by default; never in
            ``test_mode``).
    """

    LAYOUT = 'underwater-coco'
    FIXTURE = 'duo'
    SOURCE = 'DUO'

    def __init__(self, data_root: str = '',
                 ann_file: str = 'annotations/instances_train.json',
                 img_dir: str = 'images/train', filter_empty: bool = False,
                 **kwargs):
        self.coco_file = ann_file
        self.img_dir = img_dir
        self.filter_empty = filter_empty
        self.num_clipped = self.num_dropped_tiny = 0
        super().__init__(data_root=data_root, **kwargs)

    def load_samples(self) -> List[dict]:
        path = self.require(self.path(self.coco_file), 'file')
        img_dir = self.require(self.path(self.img_dir), 'dir')
        coco = load_coco_json(path)
        cats = sorted(coco.cats.values(), key=lambda c: c['id'])
        names = [c['name'] for c in cats]
        given = self._metainfo.get('classes')
        if given:
            missing = set(given) - set(names)
            if missing:
                raise CorruptSampleError(
                    f'{path}: classes {sorted(missing)} of metainfo are not '
                    f'categories of the JSON ({names})')
            label_of = {c['id']: list(given).index(c['name'])
                        for c in cats if c['name'] in given}
        else:
            self._metainfo['classes'] = tuple(names)
            label_of = {c['id']: i for i, c in enumerate(cats)}
        valid_ids = sorted(coco.cats)
        orphans = sorted((a.get('id'), a.get('image_id'))
                         for a in coco.anns.values()
                         if a.get('image_id') not in coco.imgs)
        if orphans:
            # boxes of an image the JSON does not list would be lost
            self.invalid(
                f'{path}: {len(orphans)} annotation(s) refer to image ids '
                f'that are not in "images" (annotation id, image_id: '
                f'{orphans[:5]}{" ..." if len(orphans) > 5 else ""}); add '
                'those images to "images" or remove the annotations')
        infos, clipped, tiny = [], [], []
        for img_id in sorted(coco.imgs):
            img = coco.imgs[img_id]
            instances = []
            bad = None
            for ann in coco.imgToAnns.get(img_id, []):
                where = (f'{path}: annotation id {ann.get("id")} of image '
                         f'{img.get("file_name")}')
                if ann.get('category_id') not in coco.cats:
                    bad = (f'{where} has category_id {ann.get("category_id")}'
                           f', which is not in "categories" (valid ids '
                           f'{valid_ids}); add the category or fix the id')
                    break
                if ann['category_id'] not in label_of:
                    continue  # a category left out by metainfo classes
                try:
                    x, y, w, h = (float(v) for v in ann['bbox'])
                except (KeyError, TypeError, ValueError):
                    bad = f'{where} has a bad bbox'
                    break
                if w <= 0 or h <= 0:
                    bad = (f'{where} has bbox {ann["bbox"]} with w or h <= 0 '
                           '(COCO bbox is [x, y, width, height]); fix or '
                           'remove the annotation')
                    break
                if w < 1 or h < 1:  # as mmdet: too small to train on
                    tiny.append(f'{where} bbox {ann["bbox"]}')
                    continue
                box = clip_box([x, y, x + w, y + h], img.get('width'),
                               img.get('height'))
                if box is None:
                    bad = (f'{where} has bbox {ann["bbox"]} that lies '
                           f'outside the image ({img.get("width")}x'
                           f'{img.get("height")}); fix the annotation')
                    break
                if box != [x, y, x + w, y + h]:
                    clipped.append(f'{where} bbox {ann["bbox"]} -> xyxy '
                                   f'{box}')
                instances.append(dict(
                    bbox=box,
                    bbox_label=label_of[ann['category_id']],
                    ignore_flag=int(ann.get('iscrowd', 0))))
            if bad:
                self.invalid(bad)
                continue
            if self.filter_empty and not self.test_mode and not instances:
                continue
            infos.append(dict(img_id=img_id, instances=instances,
                              img_path=osp.join(img_dir, img['file_name']),
                              width=img.get('width'),
                              height=img.get('height'),
                              labeled_tasks=['det']))
        self.num_clipped, self.num_dropped_tiny = len(clipped), len(tiny)
        log_box_corrections(self, clipped, tiny)
        return infos


@DATASETS.register_module()
class URPCDataset(MTLBaseDataset):
    """Underwater detection in VOC XML (URPC).

    Args:
        split_file: optional id list relative to ``data_root``; default: every
            ``Annotations/*.xml``.
    """

    METAINFO = dict(classes=URPC_CLASSES)
    LAYOUT = 'urpc'
    SOURCE = 'URPC'

    def __init__(self, data_root: str = '', split_file: Optional[str] = None,
                 img_dir: str = 'JPEGImages', ann_dir: str = 'Annotations',
                 **kwargs):
        self.split_file, self.img_dir, self.ann_dir = (split_file, img_dir,
                                                       ann_dir)
        self.num_clipped = 0
        super().__init__(data_root=data_root, **kwargs)

    def load_samples(self) -> List[dict]:
        ann_dir = self.require(self.path(self.ann_dir), 'dir')
        img_dir = self.require(self.path(self.img_dir), 'dir')
        if self.split_file:
            ids = [i.split()[0] for i in self.read_list(
                self.path(self.split_file))]
        else:
            ids = [f[:-4] for f in list_files(ann_dir, ('.xml', ))]
        images = {osp.splitext(f)[0]: f
                  for f in list_files(img_dir, _IMG_EXTS)}
        infos, clipped = [], []
        for img_id in ids:
            xml = osp.join(ann_dir, img_id + '.xml')
            ann = self.guarded(parse_voc_xml, xml, self.metainfo['classes'],
                               'skip', what=xml)
            if ann is None:
                continue
            clipped += ann['clipped']
            name = images.get(img_id, img_id + '.jpg')
            infos.append(dict(img_id=img_id, instances=ann['instances'],
                              img_path=osp.join(img_dir, name),
                              labeled_tasks=['det']))
        self.num_clipped = len(clipped)
        log_box_corrections(self, clipped)
        return infos


class _PairedDataset(MTLBaseDataset):
    """raw/clean image pairs matched by file name."""

    def pairs(self, raw_dir, clean_dir, names=None) -> List[dict]:
        self.require(raw_dir, 'dir')
        self.require(clean_dir, 'dir')
        clean = set(os.listdir(clean_dir))
        infos = []
        for name in names or list_files(raw_dir, _IMG_EXTS):
            if name not in clean:
                self.invalid(f'{osp.join(clean_dir, name)}: no reference '
                             f'image for {osp.join(raw_dir, name)}')
                continue
            infos.append(dict(img_path=osp.join(raw_dir, name),
                              clean_img_path=osp.join(clean_dir, name),
                              img_id=osp.splitext(name)[0],
                              labeled_tasks=['enhance']))
        return infos


@DATASETS.register_module()
class UIEBDataset(_PairedDataset):
    """UIEB pairs: ``raw-890/<name>`` -> ``reference-890/<name>``.

    Args:
        split_file: optional list of file names (relative to ``data_root``);
            default: every image of ``raw-890``.
    """

    LAYOUT = 'uieb'
    SOURCE = 'UIEB'

    def __init__(self, data_root: str = '', split_file: Optional[str] = None,
                 raw_dir: str = 'raw-890', ref_dir: str = 'reference-890',
                 **kwargs):
        self.split_file, self.raw_dir, self.ref_dir = (split_file, raw_dir,
                                                       ref_dir)
        super().__init__(data_root=data_root, **kwargs)

    def load_samples(self):
        names = (self.read_list(self.path(self.split_file))
                 if self.split_file else None)
        return self.pairs(self.path(self.raw_dir), self.path(self.ref_dir),
                          names)


@DATASETS.register_module()
class EUVPPairedDataset(_PairedDataset):
    """EUVP paired folders ``<subset>/trainA`` (raw) ``<subset>/trainB``.

    Args:
        subsets: subset folders; default every folder holding ``trainA``.
    """

    LAYOUT = 'euvp'
    SOURCE = 'EUVP'

    def __init__(self, data_root: str = '',
                 subsets: Optional[Sequence[str]] = None,
                 raw_dir: str = 'trainA', clean_dir: str = 'trainB',
                 **kwargs):
        self.subsets, self.raw_dir, self.clean_dir = (subsets, raw_dir,
                                                      clean_dir)
        super().__init__(data_root=data_root, **kwargs)

    def load_samples(self):
        subsets = self.subsets or sorted(
            d for d in os.listdir(self.data_root)
            if osp.isdir(self.path(d, self.raw_dir)))
        if not subsets:
            self.require(self.path('<subset>', self.raw_dir), 'dir')
        infos = []
        for sub in subsets:
            for info in self.pairs(self.path(sub, self.raw_dir),
                                   self.path(sub, self.clean_dir)):
                info['subset'] = sub
                infos.append(info)
        return infos


@DATASETS.register_module()
class SynthUnderwaterRGBD(BaseDataset):
    """Underwater images rendered from an RGB-D source.

    Sample ``i``: the source's pipeline loads ``img`` and ``gt_depth`` (make
    it read the depth: ``LoadMTLAnnotations``); a water type is drawn from
    ``water_types`` with ``rng = default_rng([seed, i])``, its attenuation
    ``beta`` and backscatter ``B`` jittered by ``U(1 - jitter, 1 + jitter)``
    per channel, and ``img`` becomes
    ``I = J exp(-beta d) + B (1 - exp(-beta d))`` with the clean source image
    ``J`` as ``gt_clean_img``. ``d`` is the z-depth (NYUv2 stores z-depth,
    not the range along the ray: a small-angle approximation); pixels with
    invalid depth use the sample's largest valid depth. ``enhance`` is added
    to ``labeled_tasks``; the source's labels stay (``keep_tasks`` restricts
    them). Meta: ``water_type``, ``water_beta``, ``water_backscatter``.

    Args:
        source: RGB-D dataset config (its own pipeline must load image and
            depth).
        water_types: ``{name: (beta RGB, backscatter RGB)}``; default the
            oceanic / coastal / turbid types of SynthScenes.
        depth_scale: multiply depth by this before the formation model (e.g.
            to mimic deeper water).
        jitter: relative per-channel jitter of beta and B.
        keep_tasks: source tasks to keep (None = all).
        seed: base seed; sample ``i`` is the same in every epoch.
        pipeline: transforms after the degradation.
    """

    def __init__(self, source: Union[dict, BaseDataset], water_types=None,
                 depth_scale: float = 1.0, jitter: float = 0.2,
                 keep_tasks: Optional[Sequence[str]] = None, seed: int = 0,
                 pipeline=(), test_mode=False, lazy_init=False, **kwargs):
        self.source_dataset = (
            DATASETS.build(dict(source, test_mode=source.get('test_mode',
                                                             test_mode)))
            if isinstance(source, dict) else source)
        self.source = 'Synth' + str(getattr(self.source_dataset, 'source',
                                            'RGBD'))
        self.water_types = dict(water_types or WATER_TYPES)
        self.depth_scale = depth_scale
        self.jitter = jitter
        self.keep_tasks = None if keep_tasks is None else list(keep_tasks)
        self.seed = seed
        kwargs.setdefault('metainfo', dict(self.source_dataset.metainfo))
        super().__init__(pipeline=list(pipeline), test_mode=test_mode,
                         lazy_init=True, serialize_data=False, **kwargs)
        if not lazy_init:
            self.full_init()

    def full_init(self):
        if self._fully_initialized:
            return
        self.source_dataset.full_init()
        self.data_list = []
        self._fully_initialized = True

    def __len__(self):
        return len(self.source_dataset)

    def _tasks(self, tasks):
        tasks = [t for t in tasks if self.keep_tasks is None
                 or t in self.keep_tasks]
        return tasks + ['enhance']

    def get_data_info(self, idx):
        info = dict(self.source_dataset.get_data_info(idx))
        info['labeled_tasks'] = self._tasks(info.get('labeled_tasks', []))
        info['source'] = self.source
        return info

    def water(self, idx):
        """``(name, beta [3], backscatter [3])`` of sample ``idx``."""
        rng = np.random.default_rng([self.seed, idx])
        names = sorted(self.water_types)
        name = names[int(rng.integers(len(names)))]
        beta, back = (np.asarray(v, np.float64)
                      for v in self.water_types[name])
        lo, hi = 1 - self.jitter, 1 + self.jitter
        beta = beta * rng.uniform(lo, hi, 3)
        back = np.clip(back * rng.uniform(lo, hi, 3), 0, 1)
        return name, beta, back

    def __getitem__(self, idx):
        return fetch_skipping_invalid(
            self, idx,
            lambda i: getattr(self.source_dataset, 'skip_invalid', False))

    def prepare_data(self, idx):
        src = self.source_dataset
        results = src.pipeline(src.get_data_info(idx))
        depth = results.get('gt_depth')
        if depth is None:
            raise CorruptSampleError(
                f'SynthUnderwaterRGBD: sample {idx} '
                f'({results.get("img_path")}) has no gt_depth; the source '
                'pipeline must load depth (LoadMTLAnnotations) and the source '
                'must label depth')
        if self.test_mode and ORIGINAL_LABELS in results:
            raise ValueError(
                'SynthUnderwaterRGBD: the source pipeline of '
                f'{results.get("img_path")} has a geometric transform; the '
                'clean target is made after it, so it could not be evaluated '
                'in the original image frame. Move resizing/padding/flipping '
                "to SynthUnderwaterRGBD's own pipeline")
        kept = self._tasks(results.get('labeled_tasks', []))
        results['labeled_tasks'] = kept
        if 'depth' not in kept:
            results.pop('gt_depth', None)
        name, beta, back = self.water(idx)
        clean_bgr = results['img']
        depth = np.asarray(depth, np.float32)
        valid = depth > 0
        fill = depth[valid].max() if valid.any() else 10.0
        ranges = np.where(valid, depth, fill) * self.depth_scale
        rgb = clean_bgr[..., ::-1].astype(np.float32) / 255.0
        degraded = underwater(rgb, ranges, beta, back)
        results['img'] = np.ascontiguousarray(
            (np.clip(degraded, 0, 1) * 255 + 0.5).astype(np.uint8)[..., ::-1])
        results['gt_clean_img'] = clean_bgr
        results.update(source=self.source, sample_idx=idx, water_type=name,
                       water_beta=beta, water_backscatter=back)
        return self.pipeline(with_test_mode(results, self.test_mode))
