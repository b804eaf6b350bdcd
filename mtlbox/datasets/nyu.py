"""NYUv2 in its three common on-disk forms.

1. :class:`NYUv2MTANDataset`, the mtan / LibMTL preprocessed arrays
   (288x384, 795 train / 654 val)::

       <split>/image/<i>.npy    288x384x3 float RGB in [0, 1]
       <split>/label/<i>.npy    288x384 float, 13 classes 0..12, -1 ignore
       <split>/depth/<i>.npy    288x384(x1) metres, 0 invalid
       <split>/normal/<i>.npy   288x384x3 in [-1, 1], all-zero invalid

   ``split`` is ``train`` or ``val``; ``<i>`` runs 0..N-1. Tasks
   ``seg`` (-1 -> 255), ``depth``, ``normal``.

2. :class:`NYUDMTDataset`, NYUD-MT as released with ASTMT (480x640)::

       gt_sets/<split>.txt          ids
       images/<id>.jpg
       segmentation/<id>.png        0 ignore, 1..40 -> classes 0..39
       depth/<id>.npy               metres
       normals/<id>.png|.npy        png: n = 2 v / 255 - 1 (RGB = xyz)
       edge/<id>.png|.npy           > 0 = edge

   Tasks ``seg``, ``depth``, ``normal``, ``edge``; a task whose file is
   missing for an id is not labelled for that sample.

3. :class:`NYUDepthListDataset`, the BTS-style list file::

       <list_file>: "<rgb path> <depth path> [focal]" per line, paths
       relative to img_root / depth_root; depth uint16 PNG in millimetres
       (0 invalid); a depth path "None" means no depth label.

   Task ``depth`` (metres = value / ``depth_scale``, default 1000).
"""
import os
import os.path as osp
from typing import List, Sequence

from mtlbox.registry import DATASETS

from .base import MTLBaseDataset, find_with_ext

NYU13_CLASSES = ('bed', 'books', 'ceiling', 'chair', 'floor', 'furniture',
                 'objects', 'painting', 'sofa', 'table', 'tv', 'wall',
                 'window')


def _check_tasks(name, tasks, allowed):
    bad = set(tasks) - set(allowed)
    if bad or not tasks:
        raise ValueError(f'{name} tasks={list(tasks)}: choose from {allowed}')
    return tuple(tasks)


@DATASETS.register_module()
class NYUv2MTANDataset(MTLBaseDataset):
    """NYUv2, mtan/LibMTL ``.npy`` layout (see module docstring)."""

    METAINFO = dict(seg_classes=NYU13_CLASSES, seg_ignore_index=255)
    LAYOUT = 'nyuv2-mtan'
    FIXTURE = 'nyuv2_mtan'
    SOURCE = 'NYUv2'
    _FOLDERS = dict(seg='label', depth='depth', normal='normal')

    def __init__(self, data_root: str = '', split: str = 'train',
                 tasks: Sequence[str] = ('seg', 'depth', 'normal'),
                 **kwargs):
        self.split = split
        self.tasks = _check_tasks('NYUv2MTANDataset', tasks,
                                  ('seg', 'depth', 'normal'))
        super().__init__(data_root=data_root, **kwargs)

    def load_samples(self) -> List[dict]:
        root = self.require(self.path(self.split), 'dir')
        img_dir = self.require(osp.join(root, 'image'), 'dir')
        dirs = {t: self.require(osp.join(root, self._FOLDERS[t]), 'dir')
                for t in self.tasks}
        stems = [f[:-4] for f in os.listdir(img_dir) if f.endswith('.npy')]
        stems.sort(key=lambda s: (not s.isdigit(), int(s)
                                  if s.isdigit() else 0, s))
        key = dict(seg='seg_map_path', depth='depth_path',
                   normal='normal_path')
        infos = []
        for stem in stems:
            info = dict(img_id=stem, img_path=osp.join(img_dir, stem + '.npy'),
                        labeled_tasks=list(self.tasks))
            missing = [osp.join(dirs[t], stem + '.npy') for t in self.tasks
                       if not osp.isfile(osp.join(dirs[t], stem + '.npy'))]
            if missing:  # every sample of this layout has every label
                self.invalid(f'{missing[0]}: label of sample {stem} missing')
                continue
            for task in self.tasks:
                info[key[task]] = osp.join(dirs[task], stem + '.npy')
            infos.append(info)
        return infos


@DATASETS.register_module()
class NYUDMTDataset(MTLBaseDataset):
    """NYUD-MT (ASTMT) layout, 40 classes (see module docstring)."""

    METAINFO = dict(seg_classes=tuple(f'class{i}' for i in range(1, 41)),
                    seg_ignore_index=255)
    LAYOUT = 'nyud-mt'
    FIXTURE = 'nyud_mt'
    SOURCE = 'NYUD-MT'

    def __init__(self, data_root: str = '', split: str = 'train',
                 tasks: Sequence[str] = ('seg', 'depth', 'normal', 'edge'),
                 **kwargs):
        self.split = split
        self.tasks = _check_tasks('NYUDMTDataset', tasks,
                                  ('seg', 'depth', 'normal', 'edge'))
        super().__init__(data_root=data_root, **kwargs)

    def load_samples(self) -> List[dict]:
        ids = self.read_list(self.path('gt_sets', f'{self.split}.txt'))
        img_dir = self.require(self.path('images'), 'dir')
        spec = dict(seg=('segmentation', 'seg_map_path', ('.png', )),
                    depth=('depth', 'depth_path', ('.npy', '.png')),
                    normal=('normals', 'normal_path', ('.png', '.npy')),
                    edge=('edge', 'edge_path', ('.png', '.npy')))
        dirs = {t: self.require(self.path(spec[t][0]), 'dir')
                for t in self.tasks}
        infos = []
        for img_id in ids:
            info = dict(img_id=img_id, labeled_tasks=[],
                        img_path=osp.join(img_dir, img_id + '.jpg'),
                        reduce_zero_label=True, depth_scale=1.0)
            for task in self.tasks:
                path = find_with_ext(dirs[task], img_id, spec[task][2])
                if path is not None:
                    info[spec[task][1]] = path
                    info['labeled_tasks'].append(task)
                    if task == 'depth' and path.endswith('.png'):
                        info['depth_scale'] = 1000.0
            infos.append(info)
        return infos


@DATASETS.register_module()
class NYUDepthListDataset(MTLBaseDataset):
    """NYU depth from a BTS-style list file (see module docstring).

    Args:
        list_file: the list, relative to ``data_root``.
        img_root / depth_root: roots of the rgb and depth paths, relative to
            ``data_root`` (default: ``data_root`` itself).
        depth_scale: stored value per metre (1000 for millimetres).
    """

    LAYOUT = 'nyu-depth-list'
    FIXTURE = 'nyu_depth_list'
    SOURCE = 'NYU'

    def __init__(self, data_root: str = '', list_file: str = 'train.txt',
                 img_root: str = '', depth_root: str = '',
                 depth_scale: float = 1000.0, **kwargs):
        self.list_file = list_file
        self.img_root, self.depth_root = img_root, depth_root
        self.depth_scale = depth_scale
        super().__init__(data_root=data_root, **kwargs)

    def load_samples(self) -> List[dict]:
        list_path = self.path(self.list_file)
        infos = []
        for n, line in enumerate(self.read_list(list_path), 1):
            parts = line.split()
            if len(parts) < 2:
                self.invalid(f'{list_path} line {n}: expected "<rgb> <depth>'
                             f' [focal]", got {line!r}')
                continue
            rgb, depth = parts[0].lstrip('/'), parts[1].lstrip('/')
            info = dict(img_path=self.path(self.img_root, rgb),
                        labeled_tasks=[], depth_scale=self.depth_scale)
            if len(parts) > 2:
                info['focal'] = float(parts[2])
            if depth != 'None':
                info['depth_path'] = self.path(self.depth_root, depth)
                info['labeled_tasks'].append('depth')
            infos.append(info)
        return infos

