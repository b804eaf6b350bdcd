"""Tiny, valid copies of every supported on-disk layout.

``write_fixture(name, root)`` writes one layout under ``root`` and returns
the values it wrote (the *truth* tests compare loaders with). The command
line front end is ``tools/data/make_fixture.py NAME DIR``. Every image is
small (at most 32x48) and every value is deterministic.
"""
import gzip
import json
import os
import os.path as osp
import pickle
import struct
from typing import Callable, Dict

import cv2
import numpy as np
from PIL import Image

from .cifar_mt import CIFAR_CLASSES
from .voc import VOC_CLASSES

FIXTURES: Dict[str, Callable] = {}


def fixture(name):

    def register(fn):
        FIXTURES[name] = fn
        return fn

    return register


def write_fixture(name: str, root: str) -> dict:
    """Write the ``name`` layout under ``root``; returns what was written."""
    if name not in FIXTURES:
        raise KeyError(f'no fixture {name!r}; known: {sorted(FIXTURES)}')
    os.makedirs(root, exist_ok=True)
    return FIXTURES[name](root)


def _mkdir(*parts):
    path = osp.join(*parts)
    os.makedirs(path, exist_ok=True)
    return path


def _image(h, w, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def _save(path, arr):
    _mkdir(osp.dirname(path))
    if path.endswith('.npy'):
        np.save(path, arr)
    elif not cv2.imwrite(path, arr):
        raise OSError(f'could not write {path}')


def _palette_png(path, label):
    im = Image.fromarray(label.astype(np.uint8), mode='P')
    palette = np.zeros((256, 3), np.uint8)
    palette[1:21] = np.random.default_rng(0).integers(0, 255, (20, 3))
    palette[255] = 224
    im.putpalette(palette.reshape(-1).tolist())
    _mkdir(osp.dirname(path))
    im.save(path)


def _lines(path, lines):
    _mkdir(osp.dirname(path))
    with open(path, 'w') as f:
        f.write(''.join(f'{line}\n' for line in lines))


def _voc_xml(path, w, h, objects):
    objs = ''.join(
        f'<object><name>{n}</name><pose>Unspecified</pose><truncated>0'
        f'</truncated><difficult>{d}</difficult><bndbox><xmin>{b[0]}</xmin>'
        f'<ymin>{b[1]}</ymin><xmax>{b[2]}</xmax><ymax>{b[3]}</ymax>'
        '</bndbox></object>' for n, b, d in objects)
    xml = (f'<annotation><folder>VOC</folder><filename>{osp.basename(path)}'
           f'</filename><size><width>{w}</width><height>{h}</height><depth>3'
           f'</depth></size><segmented>0</segmented>{objs}</annotation>')
    _mkdir(osp.dirname(path))
    with open(path, 'w') as f:
        f.write(xml)


# ------------------------------------------------------------------ VOC
@fixture('voc')
def voc(root, year='2012', scale=1):
    """``root/VOC<year>``: a (det+seg), b (det, one difficult), c (seg).

    ``scale`` multiplies the 24x32 image size and every coordinate (for
    throughput benchmarks at realistic sizes).
    """
    base = osp.join(root, f'VOC{year}')
    h, w = 24 * scale, 32 * scale
    det = {
        '2008_000001': [('dog', (3, 4, 20, 18), 0), ('person', (10, 2, 30, 23),
                                                     0)],
        '2008_000002': [('car', (1, 1, 12, 10), 0), ('bus', (5, 6, 31, 22),
                                                     1)],
    }
    det = {k: [(n, tuple(v * scale for v in b), d) for n, b, d in objs]
           for k, objs in det.items()}
    seg = {}
    for k, img_id in enumerate(('2008_000001', '2008_000002', '2008_000003')):
        _save(osp.join(base, 'JPEGImages', img_id + '.jpg'),
              _image(h, w, k))
    for img_id, objs in det.items():
        _voc_xml(osp.join(base, 'Annotations', img_id + '.xml'), w, h, objs)
    for k, img_id in enumerate(('2008_000001', '2008_000003')):
        label = np.zeros((h, w), np.uint8)
        label[4 * scale:18 * scale, 3 * scale:20 * scale] = 12 if k == 0 \
            else 7  # dog / car
        label[3 * scale:5 * scale, :] = 255
        seg[img_id] = label
        for folder in ('SegmentationClass', 'SegmentationClassAug'):
            _palette_png(osp.join(base, folder, img_id + '.png'), label)
    _lines(osp.join(base, 'ImageSets', 'Main', 'train.txt'), list(det))
    _lines(osp.join(base, 'ImageSets', 'Segmentation', 'train.txt'),
           list(seg))
    _lines(osp.join(base, 'ImageSets', 'Main', 'val.txt'), ['2008_000002'])
    _lines(osp.join(base, 'ImageSets', 'Segmentation', 'val.txt'),
           ['2008_000003'])
    boxes = {
        i: dict(bboxes=np.array([[b[0] - 1, b[1] - 1, b[2], b[3]]
                                 for _, b, _ in o], np.float32),
                labels=np.array([VOC_CLASSES.index(n) for n, _, _ in o]),
                ignore=np.array([bool(d) for _, _, d in o]))
        for i, o in det.items()
    }
    return dict(data_root=base, det=boxes, seg=seg, shape=(h, w))


# ---------------------------------------------------------------- NYUv2
@fixture('nyuv2_mtan')
def nyuv2_mtan(root, size=(12, 16)):
    """mtan/LibMTL arrays: 3 train and 2 val samples of 12x16.

    ``size=(288, 384)`` writes the real resolution (benchmarks).
    """
    h, w = size
    truth = {}
    for split, n in (('train', 3), ('val', 2)):
        for i in range(n):
            rng = np.random.default_rng([len(split), i])
            img = rng.random((h, w, 3)).astype(np.float32)
            label = rng.integers(0, 13, (h, w)).astype(np.float32)
            label[0, :] = -1
            depth = rng.uniform(0.5, 8, (h, w, 1)).astype(np.float32)
            depth[1, :3] = 0
            normal = rng.normal(size=(h, w, 3)).astype(np.float32)
            normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
            normal[2, :2] = 0
            for folder, arr in (('image', img), ('label', label),
                                ('depth', depth), ('normal', normal)):
                _save(osp.join(root, split, folder, f'{i}.npy'), arr)
            truth[(split, i)] = dict(img=img, label=label, depth=depth[..., 0],
                                     normal=normal)
    return dict(data_root=root, samples=truth, shape=(h, w))


@fixture('nyud_mt')
def nyud_mt(root):
    """NYUD-MT (ASTMT): 2 train ids (the second without an edge map)."""
    h, w = 12, 16
    ids = ['000001', '000002']
    truth = {}
    for k, img_id in enumerate(ids):
        rng = np.random.default_rng(10 + k)
        _save(osp.join(root, 'images', img_id + '.jpg'), _image(h, w, k))
        seg = rng.integers(0, 41, (h, w)).astype(np.uint8)
        Image.fromarray(seg).save(_mkdir(root, 'segmentation') +
                                  f'/{img_id}.png')
        depth = rng.uniform(0.5, 9, (h, w)).astype(np.float32)
        _save(osp.join(root, 'depth', img_id + '.npy'), depth)
        n = rng.normal(size=(h, w, 3))
        n /= np.linalg.norm(n, axis=-1, keepdims=True)
        png = np.clip((n + 1) * 127.5 + 0.5, 0, 255).astype(np.uint8)
        _save(osp.join(root, 'normals', img_id + '.png'), png[..., ::-1])
        edge = np.zeros((h, w), np.uint8)
        edge[:, 5] = 255
        if k == 0:
            _save(osp.join(root, 'edge', img_id + '.png'), edge)
        truth[img_id] = dict(seg=seg, depth=depth, normal_png_rgb=png,
                             edge=edge > 0 if k == 0 else None)
    _mkdir(root, 'edge')
    _lines(osp.join(root, 'gt_sets', 'train.txt'), ids)
    _lines(osp.join(root, 'gt_sets', 'val.txt'), ids[:1])
    return dict(data_root=root, samples=truth, shape=(h, w))


@fixture('nyu_depth_list')
def nyu_depth_list(root):
    """BTS list: 3 lines, the third without depth ("None")."""
    h, w = 12, 16
    lines, truth = [], {}
    for k in range(3):
        rgb = f'rgb/scene_{k}/rgb_{k:05d}.jpg'
        _save(osp.join(root, rgb), _image(h, w, k))
        if k < 2:
            mm = np.random.default_rng(k).integers(
                0, 10000, (h, w)).astype(np.uint16)
            mm[0, 0] = 0
            dep = f'depth/scene_{k}/sync_depth_{k:05d}.png'
            _save(osp.join(root, dep), mm)
            truth[k] = mm.astype(np.float32) / 1000
        else:
            dep = 'None'
        lines.append(f'/{rgb} {dep} 518.8579')
    _lines(osp.join(root, 'train.txt'), lines)
    return dict(data_root=root, depth=truth, shape=(h, w))


# ------------------------------------------------------------ underwater
def _coco(root, ann_rel, img_rel, classes):
    h, w = 20, 28
    images, anns = [], []
    boxes = {}
    for k in range(2):
        name = f'{k + 1:05d}.jpg'
        _save(osp.join(root, img_rel, name), _image(h, w, 30 + k))
        images.append(dict(id=k + 1, file_name=name, width=w, height=h))
    spec = [(1, 1, [2, 3, 10, 8], 0), (1, 2, [12, 5, 6.5, 9], 1),
            (2, 3, [0, 0, 27, 19], 0), (2, 1, [4, 4, 0.5, 3], 0)]
    for n, (img_id, cat, bbox, crowd) in enumerate(spec):
        anns.append(dict(id=n + 1, image_id=img_id, category_id=cat,
                         bbox=bbox, area=bbox[2] * bbox[3], iscrowd=crowd))
    cats = [dict(id=i + 1, name=c) for i, c in enumerate(classes)]
    path = osp.join(root, ann_rel)
    _mkdir(osp.dirname(path))
    with open(path, 'w') as f:
        json.dump(dict(images=images, annotations=anns, categories=cats), f)
    boxes[1] = dict(bboxes=np.array([[2, 3, 12, 11], [12, 5, 18.5, 14]],
                                    np.float32), labels=np.array([0, 1]),
                    ignore=np.array([False, True]))
    boxes[2] = dict(bboxes=np.array([[0, 0, 27, 19]], np.float32),
                    labels=np.array([2]), ignore=np.array([False]))
    return dict(data_root=root, ann_file=ann_rel, img_dir=img_rel,
                det=boxes, classes=tuple(classes), shape=(h, w))


@fixture('duo')
def duo(root):
    """DUO: ``annotations/instances_train.json`` + ``images/train``."""
    return _coco(root, 'annotations/instances_train.json', 'images/train',
                 ('holothurian', 'echinus', 'scallop', 'starfish'))


@fixture('ruod')
def ruod(root):
    """RUOD: ``RUOD_ANN/instances_train.json`` + ``RUOD_pic/train``."""
    from .underwater import RUOD_CLASSES
    return _coco(root, 'RUOD_ANN/instances_train.json', 'RUOD_pic/train',
                 RUOD_CLASSES)


@fixture('urpc')
def urpc(root):
    """URPC: VOC XML with a waterweeds object that is skipped."""
    h, w = 20, 28
    objs = [('echinus', (3, 4, 12, 15), 0), ('waterweeds', (1, 1, 5, 5), 0),
            ('starfish', (14, 2, 27, 19), 0)]
    _save(osp.join(root, 'JPEGImages', '000001.jpg'), _image(h, w, 40))
    _voc_xml(osp.join(root, 'Annotations', '000001.xml'), w, h, objs)
    return dict(data_root=root, shape=(h, w), det={'000001': dict(
        bboxes=np.array([[2, 3, 12, 15], [13, 1, 27, 19]], np.float32),
        labels=np.array([1, 3]))})


def _pairs(raw_dir, clean_dir, names, seed):
    truth = {}
    for k, name in enumerate(names):
        raw = _image(16, 20, seed + k)
        clean = _image(16, 20, seed + 100 + k)
        _save(osp.join(raw_dir, name), raw)
        _save(osp.join(clean_dir, name), clean)
        truth[name] = (raw, clean)
    return truth


@fixture('uieb')
def uieb(root):
    """UIEB: 2 pairs in ``raw-890`` / ``reference-890``."""
    truth = _pairs(osp.join(root, 'raw-890'), osp.join(root, 'reference-890'),
                   ['1_img_.png', '2_img_.png'], 50)
    return dict(data_root=root, pairs=truth)


@fixture('euvp')
def euvp(root):
    """EUVP paired: ``underwater_dark`` and ``underwater_scenes``, 1 pair
    each."""
    truth = {}
    for k, sub in enumerate(('underwater_dark', 'underwater_scenes')):
        truth.update(_pairs(osp.join(root, sub, 'trainA'),
                            osp.join(root, sub, 'trainB'),
                            [f'{sub}_{k}.png'], 60 + k))
    return dict(data_root=root, pairs=truth)


# ------------------------------------------------------- PASCAL-Context
@fixture('pascal_context')
def pascal_context(root):
    """PASCAL-Context MT (PNG form): 2 ids, the second without parts."""
    h, w = 16, 20
    ids = ['2008_000002', '2008_000003']
    truth = {}
    for k, img_id in enumerate(ids):
        rng = np.random.default_rng(70 + k)
        _save(osp.join(root, 'JPEGImages', img_id + '.jpg'), _image(h, w, k))
        semseg = rng.integers(0, 21, (h, w)).astype(np.uint8)
        _save(osp.join(root, 'semseg', 'pascal-context', img_id + '.png'),
              semseg)
        sal = (rng.random((h, w)) * 255).astype(np.uint8)
        _save(osp.join(root, 'sal_distill', img_id + '.png'), sal)
        n = rng.normal(size=(h, w, 3))
        n /= np.linalg.norm(n, axis=-1, keepdims=True)
        png = np.clip((n + 1) * 127.5 + 0.5, 0, 255).astype(np.uint8)
        _save(osp.join(root, 'normals_distill', img_id + '.png'),
              png[..., ::-1])
        edge = np.zeros((h, w), np.uint8)
        edge[7, :] = 255
        _save(osp.join(root, 'edge', img_id + '.png'), edge)
        parts = None
        if k == 0:
            parts = rng.integers(0, 7, (h, w)).astype(np.uint8)
            _save(osp.join(root, 'human_parts', img_id + '.png'), parts)
        truth[img_id] = dict(semseg=semseg, saliency=sal > 127, edge=edge > 0,
                             parts=parts, normal_png_rgb=png)
    _mkdir(root, 'human_parts')
    _lines(osp.join(root, 'ImageSets', 'Context', 'train.txt'), ids)
    _lines(osp.join(root, 'ImageSets', 'Context', 'val.txt'), ids[1:])
    return dict(data_root=root, samples=truth, shape=(h, w))


# --------------------------------------------------------------- Office
def _office(root, domains, classes):
    truth = {}
    for d, domain in enumerate(domains):
        lines = []
        for c in range(2):
            cls = classes[c * 3 % len(classes)]
            rel = f'{domain}/{cls}/{d}_{c}.jpg'
            _save(osp.join(root, rel), _image(12, 12, 80 + d * 5 + c))
            lines.append(f'{rel} {c * 3 % len(classes)}')
        _lines(osp.join(root, 'data_txt', f'{domain}_train.txt'), lines)
        _lines(osp.join(root, 'data_txt', f'{domain}_test.txt'), lines[:1])
        truth[domain] = [(ln.split()[0], int(ln.split()[1])) for ln in lines]
    return dict(data_root=root, lists=truth)


@fixture('office_home')
def office_home(root):
    """Office-Home: 4 domains x 2 images, lists in ``data_txt``."""
    from .office import OFFICE_HOME_CLASSES, OFFICE_HOME_DOMAINS
    return _office(root, OFFICE_HOME_DOMAINS, OFFICE_HOME_CLASSES)


@fixture('office31')
def office31(root):
    """Office-31: 3 domains x 2 images, lists in ``data_txt``."""
    from .office import OFFICE31_CLASSES, OFFICE31_DOMAINS
    return _office(root, OFFICE31_DOMAINS, OFFICE31_CLASSES)


# ---------------------------------------------------------------- MNIST
def write_idx(path, arr):
    """MNIST idx format: magic (0, 0, 0x08 ubyte, ndim), big-endian dims."""
    arr = np.ascontiguousarray(arr, np.uint8)
    header = struct.pack('>BBBB', 0, 0, 0x08, arr.ndim) + struct.pack(
        f'>{arr.ndim}I', *arr.shape)
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'wb') as f:
        f.write(header + arr.tobytes())


@fixture('mnist')
def mnist(root):
    """MNIST idx files: 6 train / 4 test 28x28 digits (train gzipped)."""
    out = {}
    for split, n, ext in (('train', 6, '.gz'), ('t10k', 4, '')):
        rng = np.random.default_rng(len(split))
        images = rng.integers(0, 256, (n, 28, 28)).astype(np.uint8)
        images[:, :, :4] = 0
        labels = (np.arange(n) * 3 % 10).astype(np.uint8)
        write_idx(osp.join(root, f'{split}-images-idx3-ubyte{ext}'), images)
        write_idx(osp.join(root, f'{split}-labels-idx1-ubyte{ext}'), labels)
        out[split] = (images, labels)
    return dict(data_root=root, **out)


# ---------------------------------------------------------------- CIFAR
@fixture('cifar10')
def cifar10(root):
    """``cifar-10-batches-py``: 5 train batches of 4 and a test batch of 4."""
    base = _mkdir(root, 'cifar-10-batches-py')
    out = {}
    names = ['data_batch_%d' % i for i in range(1, 6)] + ['test_batch']
    for k, name in enumerate(names):
        rng = np.random.default_rng(90 + k)
        data = rng.integers(0, 256, (4, 3072)).astype(np.uint8)
        labels = [int(v) for v in (np.arange(4) + 2 * k) % 10]
        with open(osp.join(base, name), 'wb') as f:
            pickle.dump({b'batch_label': name.encode(), b'labels': labels,
                         b'data': data,
                         b'filenames': [b'x.png'] * 4}, f)
        out[name] = (data, labels)
    with open(osp.join(base, 'batches.meta'), 'wb') as f:
        pickle.dump({b'label_names': [c.encode() for c in CIFAR_CLASSES]}, f)
    return dict(data_root=root, batches=out)

