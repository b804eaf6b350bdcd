"""CelebA: 40 binary face attributes, one task each (Liu et al. ICCV 2015;
the Nash-MTL / FAMO 40-task benchmark).

Official layout (``docs/datasets.md#celeba``)::

    img_align_celeba/<id>.jpg            202,599 aligned crops, 178x218
    Anno/list_attr_celeba.txt            line 1: the image count; line 2:
                                         the 40 attribute names; then
                                         "<id>.jpg v_1 .. v_40", v in {-1, 1}
    Eval/list_eval_partition.txt         "<id>.jpg p", p = 0 train, 1 val,
                                         2 test (162,770 / 19,867 / 19,962)

Task mapping: one task per attribute, named as in the file (``Smiling``,
``Male``, ...); every sample is labelled for all of them:
``labeled_tasks`` = the chosen attributes, ``gt_label`` = their 0/1
values (``1`` = has the attribute) in that order, ``task_names`` the same
names; the dataset hands ``task_map={name: 'cls', ...}`` to
``PackMTLInputs`` with each sample (as the Office datasets), so the vector
is packed as ``gt_label`` with no mapping in the config. Use
``BinaryClsHead(label_index=t)`` per task.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from PIL import Image

from mtlbox.registry import DATASETS

from .base import MTLBaseDataset
from .fixtures import fixture

SPLITS = dict(train=0, val=1, test=2)

#: the 40 attributes in the order of ``list_attr_celeba.txt``
CELEBA_ATTRIBUTES = (
    '5_o_Clock_Shadow', 'Arched_Eyebrows', 'Attractive', 'Bags_Under_Eyes',
    'Bald', 'Bangs', 'Big_Lips', 'Big_Nose', 'Black_Hair', 'Blond_Hair',
    'Blurry', 'Brown_Hair', 'Bushy_Eyebrows', 'Chubby', 'Double_Chin',
    'Eyeglasses', 'Goatee', 'Gray_Hair', 'Heavy_Makeup', 'High_Cheekbones',
    'Male', 'Mouth_Slightly_Open', 'Mustache', 'Narrow_Eyes', 'No_Beard',
    'Oval_Face', 'Pale_Skin', 'Pointy_Nose', 'Receding_Hairline',
    'Rosy_Cheeks', 'Sideburns', 'Smiling', 'Straight_Hair', 'Wavy_Hair',
    'Wearing_Earrings', 'Wearing_Hat', 'Wearing_Lipstick',
    'Wearing_Necklace', 'Wearing_Necktie', 'Young')


@DATASETS.register_module()
class CelebADataset(MTLBaseDataset):
    """CelebA attributes from the official files (module docstring).

    Args:
        split: ``'train'``, ``'val'`` or ``'test'`` (the partition file's
            0 / 1 / 2).
        attributes: the tasks, a subset of the file's names (default all
            40, in the file's order).
        img_dir, attr_file, partition_file: paths relative to
            ``data_root``.

    Errors name the file and line: a missing file, a header that is not
    "count" then names, a row whose value count differs from the names or
    holds a value other than -1 / 1, a partition id without attributes.
    """

    LAYOUT = 'celeba'
    FIXTURE = 'celeba'
    SOURCE = 'CelebA'

    def __init__(self, data_root: str = '', split: str = 'train',
                 attributes: Optional[Sequence[str]] = None,
                 img_dir: str = 'img_align_celeba',
                 attr_file: str = 'Anno/list_attr_celeba.txt',
                 partition_file: str = 'Eval/list_eval_partition.txt',
                 **kwargs):
        if split not in SPLITS:
            raise ValueError(f'CelebADataset split={split!r}: use one of '
                             f'{list(SPLITS)}')
        self.split = split
        self.attributes = list(attributes) if attributes else None
        self.img_dir, self.attr_file = img_dir, attr_file
        self.partition_file = partition_file
        kwargs.setdefault('serialize_data', False)
        super().__init__(data_root=data_root, **kwargs)

    def read_attributes(self, path: str):
        """``(names, {image id: [-1 / 1 values]})`` of the attribute file."""
        lines = self.read_list(path)
        if len(lines) < 2 or not lines[0].isdigit():
            raise ValueError(f'{path} line 1: expected the image count, then '
                             'a line of attribute names')
        names = lines[1].split()
        values: Dict[str, List[int]] = {}
        for n, line in enumerate(lines[2:], 3):
            parts = line.split()
            row = parts[1:]
            if len(row) != len(names) or any(v not in ('1', '-1')
                                             for v in row):
                raise ValueError(
                    f'{path} line {n}: expected "<id>.jpg" and '
                    f'{len(names)} values of -1 / 1, got {line!r}')
            values[parts[0]] = [int(v) for v in row]
        if int(lines[0]) != len(values):
            raise ValueError(f'{path}: line 1 says {lines[0]} images, the '
                             f'file lists {len(values)}')
        return names, values

    def load_samples(self) -> List[dict]:
        img_dir = self.require(self.path(self.img_dir), 'dir')
        attr_path = self.path(self.attr_file)
        names, values = self.read_attributes(attr_path)
        chosen = self.attributes or names
        missing = [a for a in chosen if a not in names]
        if missing:
            raise KeyError(f'CelebADataset attributes {missing} are not in '
                           f'{attr_path} (has {names})')
        columns = [names.index(a) for a in chosen]
        self.task_map = {a: 'cls' for a in chosen}
        part_path = self.path(self.partition_file)
        infos = []
        for n, line in enumerate(self.read_list(part_path), 1):
            parts = line.split()
            if len(parts) != 2 or parts[1] not in ('0', '1', '2'):
                raise ValueError(f'{part_path} line {n}: expected "<id>.jpg '
                                 f'0|1|2", got {line!r}')
            if int(parts[1]) != SPLITS[self.split]:
                continue
            if parts[0] not in values:
                raise ValueError(f'{part_path} line {n}: {parts[0]} has no '
                                 f'row in {attr_path}')
            row = values[parts[0]]
            infos.append(dict(
                img_path=osp.join(img_dir, parts[0]), img_id=parts[0],
                gt_label=[int(row[c] > 0) for c in columns],
                labeled_tasks=list(chosen), task_names=tuple(chosen)))
        return infos


@fixture('celeba')
def write_celeba(root):
    """CelebA: 6 aligned faces (4 train, 1 val, 1 test), 40 attributes."""
    rng = np.random.default_rng(0)
    os.makedirs(osp.join(root, 'img_align_celeba'), exist_ok=True)
    rows, parts = [], []
    for n, split in enumerate((0, 0, 0, 0, 1, 2), 1):
        name = f'{n:06d}.jpg'
        Image.fromarray(rng.integers(0, 255, (27, 22, 3), np.uint8)).save(
            osp.join(root, 'img_align_celeba', name))
        values = rng.choice([-1, 1], len(CELEBA_ATTRIBUTES))
        rows.append(name + ''.join(f' {v:2d}' for v in values))
        parts.append(f'{name} {split}')
    for path, lines in (
            ('Anno/list_attr_celeba.txt',
             [str(len(rows)), ' '.join(CELEBA_ATTRIBUTES)] + rows),
            ('Eval/list_eval_partition.txt', parts)):
        os.makedirs(osp.dirname(osp.join(root, path)), exist_ok=True)
        with open(osp.join(root, path), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    return dict(data_root=root, num_images=len(rows))
