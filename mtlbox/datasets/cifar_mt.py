"""Multi-task CIFAR-10: ten one-vs-rest tasks with label noise.

Layout: ``data_root/cifar-10-batches-py/{data_batch_1..5, test_batch,
batches.meta}`` (python pickles: ``b'data'`` N x 3072 uint8 = R, G, B planes
of 32x32, ``b'labels'``).

Task mapping: ten tasks named by the classes (``airplane``, ``automobile``,
..., ``truck``), every sample labelled for all of them:
``labeled_tasks=list(CIFAR_CLASSES)``; ``gt_label`` is a length-10 0/1
vector (after noise), entry ``t`` = "the image is of class t" (one-vs-rest
task ``t``, whose name is ``task_names[t]``); the clean vector is kept in
``clean_label`` and which entries were flipped in ``noisy_mask``. Pack with
``PackMTLInputs(task_map={name: 'cls' for name in CIFAR_CLASSES})`` and
use ``ClsHead(num_classes=2, label_index=t)`` per task.
``label_task='cls'`` restores the former ``labeled_tasks=['cls']``.

Noise: each selected task's label of each sample is corrupted with
probability ``noise_p``: ``uniform`` flips it (``y -> 1 - y``);
``background`` turns a positive into background (``1 -> 0``, negatives stay).
``noisy_tasks='all'`` corrupts every task, ``'main'`` only ``main_task``.
Draws come from ``default_rng(seed)``, so a seed gives the same noise.
"""
import os.path as osp
import pickle

import numpy as np

from mtlbox.registry import DATASETS

from .base import CorruptSampleError, MTLBaseDataset, clip_sample_range

CIFAR_CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog',
                 'frog', 'horse', 'ship', 'truck')


def flip_labels(labels, noise_p, mode, tasks, rng):
    """Noisy copy of 0/1 ``labels`` [N, T] and the mask of changed entries."""
    labels = np.asarray(labels, np.int64)
    draw = rng.random(labels.shape) < noise_p
    draw[:, [t for t in range(labels.shape[1]) if t not in tasks]] = False
    if mode == 'uniform':
        noisy = np.where(draw, 1 - labels, labels)
    elif mode == 'background':
        noisy = np.where(draw & (labels == 1), 0, labels)
    else:
        raise ValueError(f"noise_mode={mode!r}: use 'uniform' or "
                         "'background'")
    return noisy, noisy != labels


@DATASETS.register_module()
class CIFAR10MTDataset(MTLBaseDataset):
    """Multi-task CIFAR-10 (module docstring).

    Args:
        split: ``train`` (data_batch_1..5) or ``test`` (test_batch).
        noise_p: corruption probability in [0, 1].
        noise_mode: ``uniform`` or ``background``.
        noisy_tasks: ``all`` or ``main``.
        main_task: index or class name of the main task (for
            ``noisy_tasks='main'``).
        seed: noise seed.
        label_task: ``None``: ``labeled_tasks`` = the ten class names; a
            name (``'cls'``): that single name instead.
        sample_range: ``(start, stop)``: only images ``start..stop-1`` of
            the split (the noise is drawn for the whole split first, so it
            does not depend on the range), e.g. ``(0, 45000)`` to train and
            ``(45000, 50000)`` as a held-out set (SLGrad).
    """

    METAINFO = dict(classes=CIFAR_CLASSES)
    LAYOUT = 'cifar10-mt'
    FIXTURE = 'cifar10'
    SOURCE = 'CIFAR10MT'

    def __init__(self, data_root='', split='train', noise_p=0.0,
                 noise_mode='uniform', noisy_tasks='all', main_task=0,
                 seed=0, label_task=None, sample_range=None, **kwargs):
        if not 0 <= noise_p <= 1:
            raise ValueError(f'noise_p={noise_p} not in [0, 1]')
        if noisy_tasks not in ('all', 'main'):
            raise ValueError(f"noisy_tasks={noisy_tasks!r}: 'all' or 'main'")
        if noise_mode not in ('uniform', 'background'):
            raise ValueError(f"noise_mode={noise_mode!r}: use 'uniform' or "
                             "'background'")
        self.split, self.noise_p, self.noise_mode = split, noise_p, noise_mode
        self.noisy_tasks, self.main_task, self.seed = (noisy_tasks,
                                                       main_task, seed)
        if isinstance(main_task, str):
            if main_task not in CIFAR_CLASSES:
                raise KeyError(f'CIFAR10MTDataset main_task={main_task!r}: '
                               f'not one of {CIFAR_CLASSES}')
            self.main_task = CIFAR_CLASSES.index(main_task)
        self.label_task = label_task
        self.sample_range = None
        if sample_range is not None:
            start, stop = (int(v) for v in sample_range)
            if not 0 <= start < stop:
                raise ValueError(f'CIFAR10MTDataset sample_range='
                                 f'{tuple(sample_range)}: need 0 <= start < '
                                 'stop')
            self.sample_range = (start, stop)
        kwargs.setdefault('serialize_data', False)
        super().__init__(data_root=data_root, **kwargs)

    def _batch(self, path):
        self.require(path, 'file')
        try:
            with open(path, 'rb') as f:
                batch = pickle.load(f, encoding='bytes')
            data = np.asarray(batch[b'data'], np.uint8).reshape(-1, 3, 32, 32)
            labels = np.asarray(batch[b'labels'], np.int64)
        except (pickle.UnpicklingError, EOFError, KeyError, ValueError) as err:
            raise CorruptSampleError(f'{path}: not a CIFAR-10 python batch '
                                     f'({type(err).__name__}: {err})') from err
        return data, labels

    def load_samples(self):
        base = self.require(self.path('cifar-10-batches-py'), 'dir')
        names = ([f'data_batch_{i}' for i in range(1, 6)]
                 if self.split == 'train' else ['test_batch'])
        parts = [self._batch(osp.join(base, n)) for n in names]
        data = np.concatenate([p[0] for p in parts])
        classes = np.concatenate([p[1] for p in parts])
        self.images = np.ascontiguousarray(
            data.transpose(0, 2, 3, 1)[..., ::-1])  # RGB planes -> HWC BGR
        clean = (classes[:, None] == np.arange(10)[None]).astype(np.int64)
        tasks = range(10) if self.noisy_tasks == 'all' else [self.main_task]
        noisy, mask = flip_labels(clean, self.noise_p, self.noise_mode,
                                  list(tasks),
                                  np.random.default_rng(self.seed))
        labeled = ([self.label_task] if self.label_task else
                   CIFAR_CLASSES)
        return [dict(sample_idx=i, image_idx=i, class_label=int(classes[i]),
                     gt_label=noisy[i].tolist(),
                     clean_label=clean[i].tolist(),
                     noisy_mask=mask[i].tolist(), labeled_tasks=list(labeled),
                     task_names=CIFAR_CLASSES,
                     img_path=f'{osp.join(base, names[0])}#{i}')
                for i in range(*self._range(len(classes)))]

    def _range(self, n):
        return clip_sample_range(self.sample_range, n, type(self).__name__,
                                 f'{self.data_root} ({self.split})')

    def get_data_info(self, idx):
        info = super().get_data_info(idx)
        info['img'] = self.images[info['image_idx']]
        return info
