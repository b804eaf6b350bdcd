"""PASCAL-Context multi-task (semseg, human parts, saliency, normals, edges).

Layout (PNG form of the ASTMT ``PASCAL_MT`` release; 512x512 inputs after
the pipeline's resize)::

    JPEGImages/<id>.jpg
    ImageSets/Context/<split>.txt
    semseg/pascal-context/<id>.png   21 classes 0..20 (0 background), 255
                                     ignore
    human_parts/<id>.png             7 parts 0..6 (0 background), 255 ignore;
                                     an image without a file has no ``parts``
                                     label (images without people)
    sal_distill/<id>.png             saliency 0..255, > 127 = salient
    normals_distill/<id>.png         n = 2 v / 255 - 1 (RGB = xyz)
    edge/<id>.png                    > 0 = edge

ASTMT ships human parts and edges as MATLAB ``.mat`` files; convert them to
the PNGs above once (the loader does not read ``.mat``). Task keys ``seg``,
``parts``, ``saliency``, ``normal``, ``edge``.
"""
import os.path as osp
from typing import List, Sequence

from mtlbox.registry import DATASETS

from .base import MTLBaseDataset, find_with_ext

PASCAL_CONTEXT_CLASSES = (
    'background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus',
    'car', 'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse', 'motorbike',
    'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor')
HUMAN_PARTS = ('background', 'head', 'torso', 'upper_arm', 'lower_arm',
               'upper_leg', 'lower_leg')

_SPEC = dict(seg=('semseg/pascal-context', 'seg_map_path'),
             parts=('human_parts', 'parts_path'),
             saliency=('sal_distill', 'saliency_path'),
             normal=('normals_distill', 'normal_path'),
             edge=('edge', 'edge_path'))


@DATASETS.register_module()
class PascalContextMTDataset(MTLBaseDataset):
    """PASCAL-Context MT (layout in the module docstring).

    Args:
        split: ``train`` or ``val`` (``ImageSets/Context/<split>.txt``).
        tasks: subset of ``('seg', 'parts', 'saliency', 'normal', 'edge')``.
    """

    METAINFO = dict(seg_classes=PASCAL_CONTEXT_CLASSES,
                    parts_classes=HUMAN_PARTS, seg_ignore_index=255)
    LAYOUT = 'pascal-context'
    FIXTURE = 'pascal_context'
    SOURCE = 'PASCAL-Context'

    def __init__(self, data_root: str = '', split: str = 'train',
                 tasks: Sequence[str] = ('seg', 'parts', 'saliency', 'normal',
                                         'edge'), **kwargs):
        bad = set(tasks) - set(_SPEC)
        if bad or not tasks:
            raise ValueError(f'PascalContextMTDataset tasks={list(tasks)}: '
                             f'choose from {tuple(_SPEC)}')
        self.split, self.tasks = split, tuple(tasks)
        super().__init__(data_root=data_root, **kwargs)

    def load_samples(self) -> List[dict]:
        ids = self.read_list(self.path('ImageSets', 'Context',
                                       f'{self.split}.txt'))
        img_dir = self.require(self.path('JPEGImages'), 'dir')
        dirs = {t: self.require(self.path(_SPEC[t][0]), 'dir')
                for t in self.tasks}
        infos = []
        for img_id in ids:
            info = dict(img_id=img_id, labeled_tasks=[],
                        img_path=osp.join(img_dir, img_id + '.jpg'))
            for task in self.tasks:
                path = find_with_ext(dirs[task], img_id, ('.png', '.npy'))
                if path is None:
                    if task != 'parts':  # parts exist for people only
                        self.invalid(f'{osp.join(dirs[task], img_id)}.png: '
                                     f'{task} label missing')
                    continue
                info[_SPEC[task][1]] = path
                info['labeled_tasks'].append(task)
            infos.append(info)
        return infos
