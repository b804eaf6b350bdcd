"""Writers of the official on-disk formats of the seed experiments' data.

Written from the format descriptions (docs/datasets.md, the readers'
docstrings, the datasets' own documentation), independently of
``mtlbox/datasets/fixtures.py``: a recipe test must not inherit the
generator's assumptions. Every writer takes the folder of its dataset root
and returns a dict of what it wrote (ids, image sizes, the labels), so a
test can check what the pipeline made of it.

Images deliberately differ from the configs' input sizes and from each
other within one split (160x120 next to 90x130 ...), as real data do.
Contents are random textures with a few shapes; no learning is expected.
"""
import gzip
import json
import os
import os.path as osp
import pickle
import struct
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image

# --------------------------------------------------------------- helpers
VOC_NAMES = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car',
             'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse',
             'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train',
             'tvmonitor')


def voc_palette() -> List[int]:
    """The VOC colour map (bit-interleaved class index), 256 x RGB, as the
    devkit's ``labelcolormap``: class 0 black, 255 cream (224, 224, 192)."""
    palette = []
    for index in range(256):
        r = g = b = 0
        c = index
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        palette += [r, g, b]
    return palette


def _texture(rng, h, w, base=None) -> np.ndarray:
    """HxWx3 uint8: a smooth colour gradient plus noise."""
    yy, xx = np.mgrid[0:h, 0:w]
    base = rng.integers(40, 200, 3) if base is None else np.asarray(base)
    img = (base[None, None, :]
           + 30 * np.sin(xx[..., None] / 7.0 + np.arange(3))
           + 20 * np.cos(yy[..., None] / 5.0) + rng.normal(0, 12, (h, w, 3)))
    return np.clip(img, 0, 255).astype(np.uint8)


def _write_jpg(path, rgb):
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(rgb).save(path, quality=90)


def _write_png(path, arr):
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(arr).save(path)


def _write_lines(path, lines):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(''.join(f'{line}\n' for line in lines))


# ------------------------------------------------------------------ VOC
# (id, (width, height), objects: (class name, xmin, ymin, xmax, ymax,
# difficult)) -- 1-based inclusive pixel boxes as in the VOC XML.
VOC_TRAIN = [
    ('2008_000008', (160, 120), [('dog', 10, 20, 70, 100, 0),
                                 ('person', 80, 5, 150, 110, 0)]),
    ('2008_000015', (90, 130), [('bottle', 20, 30, 60, 120, 0),
                                ('bottle', 62, 40, 85, 90, 1)]),
    ('2008_000019', (200, 150), [('car', 30, 60, 180, 140, 0),
                                 ('bus', 5, 5, 60, 50, 0),
                                 ('person', 150, 10, 190, 70, 1)]),
    ('2008_000023', (120, 90), []),  # no objects (in both lists)
]
VOC_VAL = [
    ('2009_000001', (160, 120), [('cat', 15, 15, 90, 100, 0),
                                 ('chair', 100, 40, 150, 115, 1)]),
    ('2009_000002', (90, 130), [('horse', 10, 20, 80, 125, 0)]),
    ('2009_000005', (130, 100), []),  # no objects
]
# ids listed only for segmentation / only for detection
VOC_SEG_ONLY = {'train': [('2008_000031', (110, 140),
                           [('sheep', 20, 30, 90, 120, 0)])],
                'val': []}
VOC_DET_ONLY = {'train': [], 'val': [('2009_000012', (140, 100),
                                      [('boat', 10, 20, 120, 80, 0)])]}


def _voc_xml(img_id, size, objects) -> str:
    w, h = size
    objs = ''.join(
        f'\t<object>\n\t\t<name>{name}</name>\n\t\t<pose>Unspecified</pose>\n'
        f'\t\t<truncated>0</truncated>\n\t\t<occluded>0</occluded>\n'
        f'\t\t<bndbox>\n\t\t\t<xmin>{x1}</xmin>\n\t\t\t<ymin>{y1}</ymin>\n'
        f'\t\t\t<xmax>{x2}</xmax>\n\t\t\t<ymax>{y2}</ymax>\n\t\t</bndbox>\n'
        f'\t\t<difficult>{d}</difficult>\n\t</object>\n'
        for name, x1, y1, x2, y2, d in objects)
    return (f'<annotation>\n\t<folder>VOC2012</folder>\n'
            f'\t<filename>{img_id}.jpg</filename>\n'
            f'\t<source>\n\t\t<database>The VOC2008 Database</database>\n'
            f'\t\t<annotation>PASCAL VOC2008</annotation>\n'
            f'\t\t<image>flickr</image>\n\t</source>\n'
            f'\t<size>\n\t\t<width>{w}</width>\n\t\t<height>{h}</height>\n'
            f'\t\t<depth>3</depth>\n\t</size>\n'
            f'\t<segmented>1</segmented>\n{objs}</annotation>\n')


def _voc_mask(size, objects, border=2) -> np.ndarray:
    """Class-index mask: each object an ellipse inside its box, outlined by
    ``border`` pixels of 255 (VOC's 'void' boundary)."""
    w, h = size
    mask = np.zeros((h, w), np.uint8)
    for name, x1, y1, x2, y2, _ in objects:
        centre = ((x1 + x2) // 2 - 1, (y1 + y2) // 2 - 1)
        axes = (max(2, (x2 - x1) // 2 - border),
                max(2, (y2 - y1) // 2 - border))
        cv2.ellipse(mask, centre, axes, 0, 0, 360, 255, -1)
        inner = (max(1, axes[0] - border), max(1, axes[1] - border))
        cv2.ellipse(mask, centre, inner, 0, 0, 360,
                    VOC_NAMES.index(name) + 1, -1)
    return mask


def write_voc2012(root: str, seed: int = 0) -> Dict:
    """``VOCdevkit/VOC2012`` at ``root``: JPEGImages, Annotations (with
    difficult objects and object-less images), SegmentationClass palette
    PNGs (mode 'P', VOC palette, 255 borders) and the ImageSets lists
    ``Main/{train,val}.txt``, ``Main/<class>_{train,val}.txt``,
    ``Segmentation/{train,val}.txt``."""
    rng = np.random.default_rng(seed)
    palette = voc_palette()
    out = dict(root=root, splits={})
    for split, both in (('train', VOC_TRAIN), ('val', VOC_VAL)):
        det = both + VOC_DET_ONLY[split]
        seg = both + VOC_SEG_ONLY[split]
        for img_id, size, objects in {e[0]: e for e in det + seg}.values():
            w, h = size
            img = _texture(rng, h, w)
            for name, x1, y1, x2, y2, _ in objects:  # paint the objects
                colour = [int(c) for c in palette[3 * (VOC_NAMES.index(name)
                                                       + 1):][:3]]
                cv2.rectangle(img, (x1 + 2, y1 + 2), (x2 - 3, y2 - 3), colour,
                              -1)
            _write_jpg(osp.join(root, 'JPEGImages', img_id + '.jpg'), img)
        for img_id, size, objects in det:
            path = osp.join(root, 'Annotations', img_id + '.xml')
            os.makedirs(osp.dirname(path), exist_ok=True)
            with open(path, 'w') as f:
                f.write(_voc_xml(img_id, size, objects))
        for img_id, size, objects in seg:
            png = Image.fromarray(_voc_mask(size, objects), mode='P')
            png.putpalette(palette)
            path = osp.join(root, 'SegmentationClass', img_id + '.png')
            os.makedirs(osp.dirname(path), exist_ok=True)
            png.save(path)
        _write_lines(osp.join(root, 'ImageSets', 'Main', f'{split}.txt'),
                     [e[0] for e in det])
        _write_lines(osp.join(root, 'ImageSets', 'Segmentation',
                              f'{split}.txt'), [e[0] for e in seg])
        for name in ('person', 'dog'):  # per-class lists: "<id> <1|-1|0>"
            _write_lines(
                osp.join(root, 'ImageSets', 'Main', f'{name}_{split}.txt'),
                [f'{e[0]} {1 if any(o[0] == name for o in e[2]) else -1:2d}'
                 for e in det])
        out['splits'][split] = dict(det=det, seg=seg)
    return out


# ------------------------------------------------------ NYU depth (BTS)
NYU_SIZES = {'train': [(160, 120), (120, 90), (160, 120)],
             'test': [(120, 90), (144, 108)]}


def _depth_mm(rng, h, w) -> np.ndarray:
    """uint16 millimetres: a tilted plane 1-6 m, a 0 (invalid) frame as in
    the cropped official test depth, and a few invalid holes."""
    yy, xx = np.mgrid[0:h, 0:w]
    depth = 1000 + 4000 * (yy / h) + 800 * (xx / w) + rng.normal(0, 20, (h, w))
    depth = depth.astype(np.uint16)
    depth[:3], depth[-3:], depth[:, :4], depth[:, -4:] = 0, 0, 0, 0
    depth[rng.integers(0, h, 5), rng.integers(0, w, 5)] = 0
    return depth


def write_nyu_depth_list(root: str, seed: int = 1) -> Dict:
    """BTS's NYU layout at ``root`` (``nyu_depth_v2``): ``sync/<scene>/
    rgb_%05d.jpg`` + ``sync_depth_%05d.png`` for training, listed in
    ``nyudepthv2_train_files_with_gt.txt`` ("/scene/rgb.jpg /scene/depth.png
    focal", leading slash as BTS writes it); ``official_splits/test/<scene>/``
    listed in ``nyudepthv2_test_files_with_gt.txt``."""
    rng = np.random.default_rng(seed)
    scenes = {'train': ['kitchen_0028b', 'living_room_0010'],
              'test': ['bathroom', 'bedroom']}
    out = dict(root=root)
    for split, sizes in NYU_SIZES.items():
        folder = 'sync' if split == 'train' else 'official_splits/test'
        lines, written = [], []
        for k, (w, h) in enumerate(sizes):
            scene = scenes[split][k % 2]
            rgb = f'{scene}/rgb_{k:05d}.jpg'
            dep = f'{scene}/sync_depth_{k:05d}.png'
            _write_jpg(osp.join(root, folder, rgb), _texture(rng, h, w))
            depth = _depth_mm(rng, h, w)
            _write_png(osp.join(root, folder, dep), depth)
            lead = '/' if split == 'train' else ''
            lines.append(f'{lead}{rgb} {lead}{dep} 518.8579')
            written.append(dict(rgb=rgb, depth_mm=depth))
        _write_lines(osp.join(root, f'nyudepthv2_{split}_files_with_gt.txt'),
                     lines)
        out[split] = written
    return out


# ------------------------------------------------------- NYUv2 (mtan npy)
def write_nyuv2_mtan(root: str, sizes: Dict[str, Sequence[Tuple[int, int]]]
                     = None, seed: int = 2) -> Dict:
    """mtan / LibMTL arrays at ``root``: ``{train,val}/{image,label,depth,
    normal}/<i>.npy``; image float32 RGB [0, 1] HxWx3, label float 0..12
    with -1 ignore, depth HxWx1 metres with 0 invalid, normal HxWx3 unit
    with all-zero invalid pixels. ``sizes``: (w, h) per sample per split."""
    sizes = sizes or {'train': [(64, 48), (64, 48), (56, 40), (64, 48)],
                      'val': [(64, 48), (56, 40), (64, 48)]}
    rng = np.random.default_rng(seed)
    out = dict(root=root)
    for split, split_sizes in sizes.items():
        for i, (w, h) in enumerate(split_sizes):
            image = _texture(rng, h, w).astype(np.float32) / 255.0
            label = rng.integers(0, 13, (h, w)).astype(np.float32)
            label[:, : w // 8] = -1.0
            yy = np.mgrid[0:h, 0:w][0]
            depth = (1.0 + 3.0 * yy / h).astype(np.float32)[..., None]
            depth[: h // 10] = 0.0
            normal = rng.normal(0, 1, (h, w, 3)).astype(np.float32)
            normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
            normal[-(h // 10):] = 0.0
            for name, arr in (('image', image), ('label', label),
                              ('depth', depth), ('normal', normal)):
                path = osp.join(root, split, name, f'{i}.npy')
                os.makedirs(osp.dirname(path), exist_ok=True)
                np.save(path, arr)
        out[split] = list(split_sizes)
    return out


# ------------------------------------------------------------ Office-Home
OFFICE_HOME_DOMAINS = ('Art', 'Clipart', 'Product', 'Real_World')


def write_office_home(root: str, seed: int = 3) -> Dict:
    """``office-home`` at ``root``: ``<domain>/<class>/<nnnnn>.jpg`` and
    LibMTL-style ``data_txt/<domain>_{train,val,test}.txt`` lines
    "<path relative to root> <label>"; images of mixed sizes (the real set
    ranges from 117 to 6500 pixels a side)."""
    rng = np.random.default_rng(seed)
    classes = [('Alarm_Clock', 0), ('Backpack', 1), ('Webcam', 64)]
    sizes = [(160, 120), (90, 130), (117, 117), (200, 150)]
    out = dict(root=root, lists={})
    for d, domain in enumerate(OFFICE_HOME_DOMAINS):
        for split, count in (('train', 1), ('val', 1), ('test', 1)):
            lines = []
            for k in range(count):
                name, label = classes[(d + k + len(split)) % len(classes)]
                w, h = sizes[(d + k) % len(sizes)]
                rel = f'{domain}/{name}/{split}_{k:05d}.jpg'
                _write_jpg(osp.join(root, rel), _texture(rng, h, w))
                lines.append(f'{rel} {label}')
            _write_lines(osp.join(root, 'data_txt', f'{domain}_{split}.txt'),
                         lines)
            out['lists'][(domain, split)] = lines
    return out


# ---------------------------------------------------------------- NYUD-MT
def write_nyud_mt(root: str, seed: int = 4) -> Dict:
    """ASTMT's NYUD-MT at ``root``: ``gt_sets/{train,val}.txt``,
    ``images/<id>.jpg``, ``segmentation/<id>.png`` (0 ignore, 1..40),
    ``depth/<id>.npy`` metres, ``normals/<id>.png`` (n = 2v/255 - 1),
    ``edge/<id>.png``. The real images are 480x640; these are smaller and
    of two sizes."""
    rng = np.random.default_rng(seed)
    splits = {'train': [(160, 120), (128, 96), (160, 120), (128, 96)],
              'val': [(160, 120), (128, 96), (144, 108)]}
    out = dict(root=root)
    idx = 0
    for split, sizes in splits.items():
        ids = []
        for w, h in sizes:
            img_id = f'{idx:06d}'
            idx += 1
            ids.append(img_id)
            _write_jpg(osp.join(root, 'images', img_id + '.jpg'),
                       _texture(rng, h, w))
            seg = rng.integers(1, 41, (h, w)).astype(np.uint8)
            seg[:, :5] = 0
            _write_png(osp.join(root, 'segmentation', img_id + '.png'), seg)
            yy = np.mgrid[0:h, 0:w][0]
            depth = (0.8 + 4.0 * yy / h).astype(np.float32)
            depth[:4] = 0.0
            os.makedirs(osp.join(root, 'depth'), exist_ok=True)
            np.save(osp.join(root, 'depth', img_id + '.npy'), depth)
            n = rng.normal(0, 1, (h, w, 3))
            n[..., 2] = -np.abs(n[..., 2]) - 1
            n /= np.linalg.norm(n, axis=-1, keepdims=True)
            _write_png(osp.join(root, 'normals', img_id + '.png'),
                       np.round((n + 1) * 127.5).astype(np.uint8))
            edge = np.zeros((h, w), np.uint8)
            edge[h // 2, :] = 255
            edge[:, w // 3] = 255
            _write_png(osp.join(root, 'edge', img_id + '.png'), edge)
        _write_lines(osp.join(root, 'gt_sets', f'{split}.txt'), ids)
        out[split] = dict(ids=ids, sizes=sizes)
    return out


# --------------------------------------------------------- PASCAL-Context
def write_pascal_context_mt(root: str, seed: int = 5) -> Dict:
    """``PASCAL_MT`` at ``root`` in the PNG form of the ASTMT release:
    JPEGImages, ImageSets/Context/{train,val}.txt, semseg/pascal-context
    (0..20, 255 ignore), human_parts (0..6; absent for images without
    people), sal_distill (0..255), normals_distill (n = 2v/255 - 1), edge.
    Sizes as VOC's (< 500 a side, mixed aspect), not the 512x512 input."""
    rng = np.random.default_rng(seed)
    splits = {'train': [('2008_000002', (120, 90), True),
                        ('2008_000003', (70, 100), False),
                        ('2008_000007', (110, 80), True),
                        ('2008_000009', (96, 72), True)],
              'val': [('2008_000010', (120, 90), True),
                      ('2008_000011', (70, 100), False),
                      ('2008_000013', (100, 76), True)]}
    out = dict(root=root)
    for split, entries in splits.items():
        for img_id, (w, h), person in entries:
            _write_jpg(osp.join(root, 'JPEGImages', img_id + '.jpg'),
                       _texture(rng, h, w))
            seg = rng.integers(0, 21, (h, w)).astype(np.uint8)
            seg[:2] = 255
            _write_png(osp.join(root, 'semseg', 'pascal-context',
                                img_id + '.png'), seg)
            if person:
                parts = np.zeros((h, w), np.uint8)
                parts[h // 4: 3 * h // 4, w // 4: 3 * w // 4] = \
                    rng.integers(1, 7, (3 * h // 4 - h // 4,
                                        3 * w // 4 - w // 4))
                _write_png(osp.join(root, 'human_parts', img_id + '.png'),
                           parts)
            sal = np.zeros((h, w), np.uint8)
            sal[h // 3: 2 * h // 3, w // 3: 2 * w // 3] = 255
            _write_png(osp.join(root, 'sal_distill', img_id + '.png'), sal)
            n = rng.normal(0, 1, (h, w, 3))
            n /= np.linalg.norm(n, axis=-1, keepdims=True)
            _write_png(osp.join(root, 'normals_distill', img_id + '.png'),
                       np.round((n + 1) * 127.5).astype(np.uint8))
            edge = np.zeros((h, w), np.uint8)
            edge[h // 3, :] = 255
            _write_png(osp.join(root, 'edge', img_id + '.png'), edge)
        _write_lines(osp.join(root, 'ImageSets', 'Context', f'{split}.txt'),
                     [e[0] for e in entries])
        out[split] = entries
    return out


# ------------------------------------------------- underwater: COCO, UIEB
DUO_CATEGORIES = [dict(id=1, name='holothurian', supercategory='none'),
                  dict(id=2, name='echinus', supercategory='none'),
                  dict(id=3, name='scallop', supercategory='none'),
                  dict(id=4, name='starfish', supercategory='none')]
RUOD_NAMES = ('holothurian', 'echinus', 'scallop', 'starfish', 'fish',
              'corals', 'diver', 'cuttlefish', 'turtle', 'jellyfish')


def _coco_split(rng, img_dir, entries, categories):
    """COCO dict for ``entries`` [(file_name, (w, h), [(cat_id, x, y, w, h,
    iscrowd)])]; writes the images into ``img_dir``."""
    images, annotations = [], []
    ann_id = 1
    for img_id, (file_name, (w, h), boxes) in enumerate(entries, 1):
        img = _texture(rng, h, w, base=(30, 110, 90))  # blue-green water
        for cat, x, y, bw, bh, _ in boxes:
            cv2.rectangle(img, (int(x), int(y)), (int(x + bw), int(y + bh)),
                          (200, 60 + 30 * cat, 40), -1)
        _write_jpg(osp.join(img_dir, file_name), img)
        images.append(dict(id=img_id, file_name=file_name, width=w, height=h))
        for cat, x, y, bw, bh, crowd in boxes:
            annotations.append(dict(
                id=ann_id, image_id=img_id, category_id=cat,
                bbox=[float(x), float(y), float(bw), float(bh)],
                area=float(bw * bh), iscrowd=crowd, segmentation=[]))
            ann_id += 1
    return dict(info=dict(description='mtlbox recipe test'), licenses=[],
                images=images, annotations=annotations,
                categories=categories)


DUO_SPLITS = {
    'train': [('000001.jpg', (160, 120), [(1, 10, 10, 40, 30, 0),
                                          (4, 90, 50, 50, 45, 0)]),
              ('000002.jpg', (90, 130), [(2, 20, 30, 35, 40, 0),
                                         (3, 50, 80, 30, 30, 1)]),
              ('000003.jpg', (200, 150), [(4, 60, 20, 80, 70, 0)]),
              ('000004.jpg', (120, 90), [])],
    'test': [('000101.jpg', (160, 120), [(1, 30, 20, 50, 40, 0),
                                         (2, 100, 60, 40, 40, 0)]),
             ('000102.jpg', (90, 130), [(3, 10, 10, 50, 60, 0)]),
             ('000103.jpg', (130, 100), [(4, 20, 30, 60, 50, 0),
                                         (1, 90, 10, 0.5, 20, 0)])],
}


def write_duo(root: str, seed: int = 6) -> Dict:
    """DUO at ``root``: ``annotations/instances_{train,test}.json`` (COCO,
    category ids 1..4, one crowd box, one sub-pixel box, an image without
    boxes) and ``images/{train,test}/``."""
    rng = np.random.default_rng(seed)
    for split, entries in DUO_SPLITS.items():
        coco = _coco_split(rng, osp.join(root, 'images', split), entries,
                           DUO_CATEGORIES)
        path = osp.join(root, 'annotations', f'instances_{split}.json')
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            json.dump(coco, f)
    return dict(root=root, splits=DUO_SPLITS)


def write_ruod(root: str, seed: int = 7) -> Dict:
    """RUOD at ``root``: ``RUOD_ANN/instances_{train,test}.json`` (10
    categories, ids 1..10, not all present in a split) and
    ``RUOD_pic/{train,test}/``."""
    rng = np.random.default_rng(seed)
    cats = [dict(id=i + 1, name=n, supercategory='none')
            for i, n in enumerate(RUOD_NAMES)]
    splits = {
        'train': [('001.jpg', (160, 120), [(5, 10, 10, 60, 40, 0),
                                           (7, 80, 30, 60, 80, 0)]),
                  ('002.jpg', (90, 130), [(10, 20, 20, 50, 70, 0)]),
                  ('003.jpg', (140, 100), [(1, 30, 30, 40, 30, 0)]),
                  ('004.jpg', (120, 160), [(9, 10, 50, 90, 60, 0)])],
        'test': [('101.jpg', (160, 120), [(5, 20, 20, 60, 50, 0)]),
                 ('102.jpg', (90, 130), [(7, 10, 30, 60, 80, 0),
                                         (10, 5, 5, 20, 20, 0)])],
    }
    for split, entries in splits.items():
        coco = _coco_split(rng, osp.join(root, 'RUOD_pic', split), entries,
                           cats)
        path = osp.join(root, 'RUOD_ANN', f'instances_{split}.json')
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            json.dump(coco, f)
    return dict(root=root, splits=splits)


def write_uieb(root: str, seed: int = 8) -> Dict:
    """UIEB at ``root``: ``raw-890/<name>.png`` and ``reference-890/<name>
    .png`` with the same names (the reference is the colour-corrected raw),
    plus ``train.txt`` / ``test.txt`` name lists."""
    rng = np.random.default_rng(seed)
    splits = {'train': [('2_img_.png', (160, 120)), ('5_img_.png', (90, 130)),
                        ('7_img_.png', (120, 90)), ('8_img_.png', (160, 120))],
              'test': [('11_img_.png', (130, 100)),
                       ('15_img_.png', (90, 130))]}
    for split, entries in splits.items():
        for name, (w, h) in entries:
            clean = _texture(rng, h, w)
            raw = np.clip(clean * np.array([0.4, 0.8, 0.9]) + [0, 30, 40], 0,
                          255).astype(np.uint8)  # green-blue cast
            _write_png(osp.join(root, 'raw-890', name), raw)
            _write_png(osp.join(root, 'reference-890', name), clean)
        _write_lines(osp.join(root, f'{split}.txt'), [e[0] for e in entries])
    return dict(root=root, splits=splits)


# -------------------------------------------------------------- CIFAR-10
CIFAR_NAMES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog',
               'horse', 'ship', 'truck')


def write_cifar10(root: str, per_batch: int = 4, seed: int = 9) -> Dict:
    """``cifar-10-batches-py`` under ``root``: ``data_batch_1..5`` and
    ``test_batch`` (pickled dicts with bytes keys: ``b'batch_label'``,
    ``b'labels'`` list, ``b'data'`` N x 3072 uint8 = R, G, B planes row-major,
    ``b'filenames'``) and ``batches.meta`` (``b'label_names'``), as the
    python version of the official archive."""
    rng = np.random.default_rng(seed)
    base = osp.join(root, 'cifar-10-batches-py')
    os.makedirs(base, exist_ok=True)
    out = dict(root=root, batches={})
    names = [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']
    for b, name in enumerate(names):
        labels = [int(v) for v in rng.integers(0, 10, per_batch)]
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        batch = {b'batch_label': f'{name} of 5'.encode(),
                 b'labels': labels, b'data': data,
                 b'filenames': [f'img_{b}_{k}.png'.encode()
                                for k in range(per_batch)]}
        with open(osp.join(base, name), 'wb') as f:
            pickle.dump(batch, f, protocol=2)
        out['batches'][name] = dict(labels=labels, data=data)
    with open(osp.join(base, 'batches.meta'), 'wb') as f:
        pickle.dump({b'num_cases_per_batch': per_batch,
                     b'label_names': [n.encode() for n in CIFAR_NAMES],
                     b'num_vis': 3072}, f, protocol=2)
    return out


# ----------------------------------------------------------------- MNIST
def _idx(path, arr, gz):
    arr = np.ascontiguousarray(arr, np.uint8)
    header = struct.pack('>HBB', 0, 0x08, arr.ndim) + struct.pack(
        f'>{arr.ndim}I', *arr.shape)
    opener = gzip.open if gz else open
    with opener(path + ('.gz' if gz else ''), 'wb') as f:
        f.write(header + arr.tobytes())


def write_mnist(root: str, n_train: int = 8, n_test: int = 4,
                seed: int = 10) -> Dict:
    """The four MNIST idx files at ``root`` (big-endian magic 0x0803 /
    0x0801, 28x28 uint8 images): the training pair gzipped, the test pair
    plain, as both forms occur."""
    rng = np.random.default_rng(seed)
    os.makedirs(root, exist_ok=True)
    out = dict(root=root)
    for prefix, n, gz in (('train', n_train, True), ('t10k', n_test, False)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = np.zeros((n, 28, 28), np.uint8)
        for k, lab in enumerate(labels):  # a bar whose position is the digit
            images[k, 4:24, 2 + 2 * lab: 5 + 2 * lab] = 255
        _idx(osp.join(root, f'{prefix}-images-idx3-ubyte'), images, gz)
        _idx(osp.join(root, f'{prefix}-labels-idx1-ubyte'), labels, gz)
        out[prefix] = dict(images=images, labels=labels)
    return out


def write_all(root: str) -> Dict[str, Dict]:
    """Every format, one folder each under ``root``."""
    j = osp.join
    return dict(
        voc=write_voc2012(j(root, 'VOCdevkit', 'VOC2012')),
        nyu_depth=write_nyu_depth_list(j(root, 'nyu_depth_v2')),
        nyuv2=write_nyuv2_mtan(j(root, 'nyuv2')),
        office_home=write_office_home(j(root, 'office-home')),
        nyud_mt=write_nyud_mt(j(root, 'NYUD_MT')),
        pascal=write_pascal_context_mt(j(root, 'PASCAL_MT')),
        duo=write_duo(j(root, 'DUO')),
        ruod=write_ruod(j(root, 'RUOD')),
        uieb=write_uieb(j(root, 'UIEB')),
        cifar10=write_cifar10(j(root, 'cifar10')),
        mnist=write_mnist(j(root, 'mnist')),
    )
