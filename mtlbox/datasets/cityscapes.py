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
import os.path as osp
from typing import List, Sequence

import numpy as np

from mtlbox.registry import DATASETS

from .base import DOCS, DatasetLayoutError, MTLBaseDataset
from .nyu import NYUv2MTANDataset, _check_tasks

#: the seven Cityscapes categories of ``label_7`` (void is -1)
CITYSCAPES7_CLASSES = ('flat', 'construction', 'object', 'nature', 'sky',
                       'human', 'vehicle')


class TestWrittenLayoutMixin:
    """Layout errors for datasets that ``tools/data/make_fixture.py`` does
    not write: they name the path and the docs section, and point to the
    test that writes a tiny copy (``TINY_COPY``)."""

    TINY_COPY = ''

    def _layout_error(self, path: str) -> DatasetLayoutError:
        return DatasetLayoutError(
            f'{path} not found; expected the layout in {DOCS}#{self.LAYOUT}'
            f' ({self.TINY_COPY} writes a tiny copy)')

    def require(self, path: str, kind: str = 'any') -> str:
        ok = {'dir': osp.isdir, 'file': osp.isfile}.get(kind,
                                                        osp.exists)(path)
        if not ok:
            raise self._layout_error(path)
        return path

    def load_data_list(self) -> List[dict]:
        if self.data_root and not osp.isdir(self.data_root):
            raise self._layout_error(self.data_root)
        return super().load_data_list()


def npy_shape(path: str) -> tuple:
    """Shape of a ``.npy`` file from its header (no data read)."""
    try:
        return tuple(np.load(path, mmap_mode='r').shape)
    except (OSError, ValueError) as err:
        raise ValueError(f'{path}: not a readable .npy array ({err})'
                         ) from None


@DATASETS.register_module()
class CityscapesMTANDataset(TestWrittenLayoutMixin, NYUv2MTANDataset):
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
    SOURCE = 'Cityscapes'
    TINY_COPY = 'tests/recipes/test_protocol_cityscapes.py'

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
