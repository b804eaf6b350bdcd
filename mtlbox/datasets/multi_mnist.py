"""Multi-MNIST: two digits overlaid left/right, one task per digit.

Construction (as in MGDA's Multi-MNIST): the left digit is placed at the
top-left of a 36x36 canvas (rows/cols 0..27), the right digit at offset 6 in
both directions (rows/cols 6..33); where they overlap the canvas takes the
pixel-wise maximum; the canvas is resized to 28x28 with area averaging
(``cv2.INTER_AREA``, which low-pass filters before subsampling).

Sources: :class:`MultiMNISTDataset` reads the official MNIST idx files
(``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``,
``t10k-*``) from ``data_root``; :class:`MultiDigitsDataset` builds the same
pairs from scikit-learn's bundled 8x8 digits (upsampled to 28x28 first), so a
real-data benchmark runs without files when scikit-learn is installed.

Task mapping: two tasks, ``labeled_tasks=['left', 'right']``;
``gt_label = [left, right]`` (class indices 0..9); meta
``task_names=('left', 'right')`` gives the position of each task in
``gt_label``. Pack with ``PackMTLInputs(task_map=dict(left='cls',
right='cls'))`` and select the entry with ``ClsHead(label_index=0 / 1)``.
``label_task='cls'`` restores the former ``labeled_tasks=['cls']``.
``img`` is 28x28 grayscale (HW uint8): use a data preprocessor with
one-channel mean/std, ``bgr_to_rgb=False`` and ``pad_size_divisor=1``, and a
one-channel backbone (``SmallConvNet``).
The right digit of sample ``i`` is digit ``perm[i]`` of a permutation drawn
from ``seed``.
"""
import gzip
import os.path as osp
import struct

import cv2
import numpy as np

from mtlbox.registry import DATASETS

from .base import CorruptSampleError, MTLBaseDataset, clip_sample_range

TASK_NAMES = ('left', 'right')


def compose_pair(left, right, canvas=36, offset=6, size=28):
    """``(canvas array, resized image)`` of two HxW uint8 digits."""
    h, w = left.shape
    out = np.zeros((canvas, canvas), np.uint8)
    out[:h, :w] = left
    region = out[offset:offset + h, offset:offset + w]
    out[offset:offset + h, offset:offset + w] = np.maximum(region, right)
    small = cv2.resize(out, (size, size), interpolation=cv2.INTER_AREA)
    return out, small


def read_idx(path):
    """Array of an MNIST idx file (optionally gzipped); errors name it."""
    opener = gzip.open if path.endswith('.gz') else open
    try:
        with opener(path, 'rb') as f:
            data = f.read()
        zero, dtype, ndim = struct.unpack('>HBB', data[:4])
        if zero != 0 or dtype != 0x08:
            raise ValueError(f'bad magic {data[:4]!r} (want 00 00 08 nd)')
        dims = struct.unpack(f'>{ndim}I', data[4:4 + 4 * ndim])
        arr = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
        return arr.reshape(dims)
    except (OSError, ValueError, struct.error, EOFError) as err:
        raise CorruptSampleError(f'{path}: not a valid MNIST idx file '
                                 f'({err})') from err


def _check_range(sample_range, who):
    """``(start, stop)`` of a sample range, validated (None passes)."""
    if sample_range is None:
        return None
    start, stop = (int(v) for v in sample_range)
    if not 0 <= start < stop:
        raise ValueError(f'{who} sample_range={tuple(sample_range)}: need '
                         '0 <= start < stop')
    return start, stop


class _MultiDigitBase(MTLBaseDataset):

    def __init__(self, seed=0, num_samples=None, size=28, label_task=None,
                 sample_range=None, **kwargs):
        self.seed, self.num_samples, self.size = seed, num_samples, size
        self.label_task = label_task
        self.sample_range = _check_range(sample_range, type(self).__name__)
        kwargs.setdefault('serialize_data', False)
        super().__init__(**kwargs)

    def digits(self):
        raise NotImplementedError

    def load_samples(self):
        self.images, self.labels = self.digits()
        n = len(self.images)
        perm = np.random.default_rng(self.seed).permutation(n)
        count = n if self.num_samples is None else min(self.num_samples, n)
        labeled = ([self.label_task] if self.label_task else
                   list(TASK_NAMES))
        start, stop = clip_sample_range(self.sample_range,
                                        n if self.sample_range else count,
                                        type(self).__name__,
                                        f'the {self.source} images')
        return [dict(sample_idx=i, left=i, right=int(perm[i]),
                     labeled_tasks=list(labeled), task_names=TASK_NAMES,
                     img_path=f'{self.source}://{i}+{int(perm[i])}')
                for i in range(start, stop)]

    def get_data_info(self, idx):
        info = super().get_data_info(idx)
        _, img = compose_pair(self.images[info['left']],
                              self.images[info['right']], size=self.size)
        info.update(img=img, gt_label=[int(self.labels[info['left']]),
                                       int(self.labels[info['right']])])
        return info


@DATASETS.register_module()
class MultiMNISTDataset(_MultiDigitBase):
    """Multi-MNIST from the idx files in ``data_root``.

    Args:
        split: ``train`` or ``test`` (files ``t10k-*``).
        num_samples: use the first N pairs (default all).
        seed: seed of the right-digit permutation.
        label_task: ``None``: ``labeled_tasks=['left', 'right']``; a name
            (``'cls'``): that single name instead.
        sample_range: ``(start, stop)``: only pairs ``start..stop-1`` (with
            the same permutation as the whole split), e.g. ``(0, 50000)`` to
            train and ``(50000, 60000)`` as a held-out set (SLGrad);
            overrides ``num_samples``.
    """

    LAYOUT = 'multi-mnist'
    FIXTURE = 'mnist'
    SOURCE = 'MultiMNIST'

    def __init__(self, data_root='', split='train', **kwargs):
        if split not in ('train', 'test'):
            raise ValueError(f'MultiMNISTDataset split={split!r}: train/test')
        self.split = split
        super().__init__(data_root=data_root, **kwargs)

    def _file(self, kind):
        prefix = 'train' if self.split == 'train' else 't10k'
        stem = self.path(f'{prefix}-{kind}')
        for path in (stem, stem + '.gz'):
            if osp.isfile(path):
                return path
        return self.require(stem, 'file')

    def digits(self):
        images = read_idx(self._file('images-idx3-ubyte'))
        labels = read_idx(self._file('labels-idx1-ubyte'))
        if images.ndim != 3 or len(images) != len(labels):
            raise CorruptSampleError(
                f'{self.data_root}: {images.shape} images vs '
                f'{labels.shape} labels')
        return images, labels


@DATASETS.register_module()
class MultiDigitsDataset(_MultiDigitBase):
    """Multi-MNIST construction from scikit-learn's 8x8 digits (1797).

    Digits (0..16) are scaled to 0..255 and upsampled to 28x28 (bilinear)
    before composition. ``split``: ``train`` takes the first
    ``train_fraction`` of the digits, ``test`` the rest.
    """

    SOURCE = 'MultiDigits'

    def __init__(self, split='train', train_fraction=0.8, **kwargs):
        self.split, self.train_fraction = split, train_fraction
        super().__init__(**kwargs)

    def digits(self):
        try:
            from sklearn.datasets import load_digits
        except ImportError as err:
            raise ImportError('MultiDigitsDataset needs scikit-learn '
                              '(pip install scikit-learn)') from err
        bunch = load_digits()
        small = np.clip(bunch.images * (255 / 16), 0, 255).astype(np.uint8)
        images = np.stack([cv2.resize(d, (28, 28),
                                      interpolation=cv2.INTER_LINEAR)
                           for d in small])
        cut = int(len(images) * self.train_fraction)
        sl = slice(0, cut) if self.split == 'train' else slice(cut, None)
        return images[sl], bunch.target[sl]
