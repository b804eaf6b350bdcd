"""Cityscapes as preprocessed by MTAN (the Nash-MTL / FAMO benchmark).

Layout (``docs/datasets.md#cityscapes-mtan``)::

    <split>/image/<i>.npy      128x256x3 float RGB in [0, 1]
    <split>/label_7/<i>.npy    128x256 float, 7 classes 0..6, -1 void
    <split>/depth/<i>.npy      128x256x1 float (MTAN's preprocessed,
                               inverse) depth, 0 invalid

``split`` is ``train`` (2975) or ``val`` (500; the benchmark's test set).
``<i>`` runs 0..N-1. Tasks ``seg`` (-1 -> 255) and ``depth``. The 19-class
labels of the same preprocessing (``label_19``) are read with
``label_folder='label_19'`` and ``num_classes=19`` in the metric and head.
"""
import os
import os.path as osp
from typing import List, Sequence

import numpy as np

from mtlbox.registry import DATASETS

from .base import MTLBaseDataset
from .fixtures import fixture
from .nyu import NYUv2MTANDataset, _check_tasks

#: the seven Cityscapes categories of ``label_7`` (void is -1)
CITYSCAPES7_CLASSES = ('flat', 'construction', 'object', 'nature', 'sky',
                       'human', 'vehicle')


def npy_shape(path: str) -> tuple:
    """Shape of a ``.npy`` file from its header (no data read)."""
    try:
        return tuple(np.load(path, mmap_mode='r').shape)
    except (OSError, ValueError) as err:
        raise ValueError(f'{path}: not a readable .npy array ({err})'
                         ) from None


@DATASETS.register_module()
class CityscapesMTANDataset(NYUv2MTANDataset):
    """Cityscapes, MTAN ``.npy`` layout (module docstring).

    Every sample's arrays are checked on loading (shapes from the ``.npy``
    headers): image ``HxWx3``, label ``HxW``, depth ``HxW`` or ``HxWx1``,
    one ``HxW`` per sample; a mismatch raises naming the file (or skips the
    sample with ``skip_invalid=True``).

    Args:
        split: ``'train'`` or ``'val'``.
        tasks: a subset of ``('seg', 'depth')``.
        label_folder: ``'label_7'`` (the benchmark) or ``'label_19'``.
    """

    METAINFO = dict(seg_classes=CITYSCAPES7_CLASSES, seg_ignore_index=255)
    LAYOUT = 'cityscapes-mtan'
    FIXTURE = 'cityscapes_mtan'
    SOURCE = 'Cityscapes'

    def __init__(self, data_root: str = '', split: str = 'train',
                 tasks: Sequence[str] = ('seg', 'depth'),
                 label_folder: str = 'label_7', **kwargs):
        self._FOLDERS = dict(seg=label_folder, depth='depth')
        self.split = split
        self.tasks = _check_tasks('CityscapesMTANDataset', tasks,
                                  ('seg', 'depth'))
        MTLBaseDataset.__init__(self, data_root=data_root, **kwargs)

    def load_samples(self) -> List[dict]:
        infos = []
        for info in super().load_samples():
            problem = self.shape_problem(info)
            if problem:
                self.invalid(problem)
                continue
            infos.append(info)
        return infos

    @staticmethod
    def shape_problem(info: dict) -> str:
        """'' if the sample's arrays fit together, else what is wrong."""
        img = npy_shape(info['img_path'])
        if len(img) != 3 or img[2] != 3:
            return (f'{info["img_path"]}: image array of shape {img}; '
                    'expected HxWx3 RGB')
        expected = dict(seg_map_path=[img[:2]],
                        depth_path=[img[:2], img[:2] + (1, )])
        for key, shapes in expected.items():
            if key in info:
                shape = npy_shape(info[key])
                if shape not in shapes:
                    return (f'{info[key]}: array of shape {shape}; expected '
                            f'{" or ".join(map(str, shapes))} to match the '
                            f'image {info["img_path"]}')
        return ''


@fixture('cityscapes_mtan')
def write_cityscapes_mtan(root, size=(16, 32)):
    """MTAN Cityscapes arrays: 2 train and 1 val samples of 16x32.

    ``size=(128, 256)`` writes the real resolution."""
    h, w = size
    for split, n in (('train', 2), ('val', 1)):
        for i in range(n):
            rng = np.random.default_rng([len(split), i])
            label = rng.integers(-1, 7, (h, w)).astype(np.float32)
            depth = rng.uniform(0.01, 0.1, (h, w, 1)).astype(np.float32)
            depth[0] = 0.0
            for folder, arr in (('image', rng.random((h, w, 3))),
                                ('label_7', label), ('depth', depth)):
                os.makedirs(osp.join(root, split, folder), exist_ok=True)
                np.save(osp.join(root, split, folder, f'{i}.npy'),
                        np.asarray(arr, np.float32))
    return dict(data_root=root, shape=(h, w))
