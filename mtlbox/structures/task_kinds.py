"""The open table of task kinds.

A *task* is one named head (``heads=dict(det=..., seg=...)``); its *kind*
says where its label lives and how that label is packed, padded, resized and
flipped. Every part of mtlbox that touches labels reads this table: the data
sample's typed fields, :class:`~mtlbox.datasets.transforms.PackMTLInputs`,
the geometric transforms, :class:`~mtlbox.models.MTLDataPreprocessor` and
:class:`~mtlbox.datasets.PartialMTLDataset`. A plugin adds a kind with
:func:`register_task_kind` (no edit of mtlbox), as mmdet's
``PackDetInputs.mapping_table`` is extended::

    from mtlbox.structures import register_task_kind
    register_task_kind('boundary', gt_field='gt_boundary',
                       result_key='gt_boundary_map', dtype='long',
                       pad_value=255, interpolation='nearest')
"""
from dataclasses import dataclass
from typing import Dict, Optional

import torch
from mmengine.structures import InstanceData, LabelData, PixelData

_DATA_TYPES = dict(pixel=PixelData, instances=InstanceData, label=LabelData)
_DTYPES = dict(long=torch.long, float=torch.float32, keep=None)
_INTERPOLATIONS = ('nearest', 'bilinear', 'depth', 'normal', None)


@dataclass(frozen=True)
class TaskKind:
    """How the label of one kind of task travels from disk to the loss.

    Attributes:
        name: the canonical task key (``'seg'``); a task whose name is not
            a kind maps to one with ``PackMTLInputs(task_map=...)``.
        gt_field / pred_field: the :class:`MTLDataSample` fields.
        data: ``'pixel'`` (a map, PixelData [C, H, W]), ``'instances'``
            (boxes, InstanceData) or ``'label'`` (LabelData, no frame).
        result_key: the pipeline results key of a pixel label (HW or HWC
            array), e.g. ``'gt_seg_map'``; ``None`` for the others.
        path_key: the data info key naming its file (``'seg_map_path'``).
        dtype: packed dtype: ``'long'`` (indices), ``'float'`` or
            ``'keep'`` (as read, e.g. the uint8 enhancement target).
        pad_value: fill of padded pixels, the kind's *invalid* value (255 =
            ignore index, 0 = invalid depth / normal).
        interpolation: ``'nearest'`` (indices), ``'bilinear'`` (images),
            ``'depth'`` (valid-masked, see ``resize_depth``), ``'normal'``
            (bilinear, renormalised).
        mirror_channel: channel whose sign flips with a horizontal flip
            (0 for camera-frame normals), or ``None``.
    """

    name: str
    gt_field: str
    pred_field: str
    data: str = 'pixel'
    result_key: Optional[str] = None
    path_key: Optional[str] = None
    dtype: str = 'float'
    pad_value: float = 0
    interpolation: Optional[str] = 'bilinear'
    mirror_channel: Optional[int] = None

    @property
    def data_type(self):
        return _DATA_TYPES[self.data]

    @property
    def torch_dtype(self):
        return _DTYPES[self.dtype]

    def invalid_value(self, index_fill=255, depth_fill=0):
        """The fill of padded / expanded pixels: the kind's ``pad_value``,
        with ``index_fill`` for index maps padded with the ignore index 255
        (a transform's ``seg_pad_val``) and ``depth_fill`` for depth."""
        if self.dtype == 'long' and self.pad_value == 255:
            return index_fill
        if self.interpolation == 'depth':
            return depth_fill
        return self.pad_value

    @property
    def result_keys(self):
        """Pipeline keys holding this kind's label (for dropping it)."""
        if self.data == 'instances':
            return ('gt_bboxes', 'gt_bboxes_labels', 'gt_ignore_flags',
                    'instances')
        if self.data == 'label':
            return (self.gt_field, )
        return tuple(k for k in (self.result_key, self.path_key) if k)


#: canonical task key -> :class:`TaskKind`; extend with register_task_kind
TASK_KINDS: Dict[str, TaskKind] = {}
#: canonical task key -> ground-truth field (a live view of TASK_KINDS)
TASK_FIELDS: Dict[str, str] = {}
#: data sample field -> its data type (gt_* and pred_* of every kind)
FIELD_TYPES: Dict[str, type] = {}
_LISTENERS = []


def register_task_kind(name: str, gt_field: str, *, pred_field=None,
                       data: str = 'pixel', result_key=None, path_key=None,
                       dtype: str = 'float', pad_value: float = 0,
                       interpolation: Optional[str] = 'bilinear',
                       mirror_channel: Optional[int] = None,
                       force: bool = False) -> TaskKind:
    """Add a kind of task to the table every label-handling part reads.

    ``pred_field`` defaults to ``gt_field`` with ``pred_`` for ``gt_``.
    Re-registering an identical kind is a no-op (plugins are imported more
    than once); a different kind under a taken name or field raises unless
    ``force=True``. Returns the :class:`TaskKind`.
    """
    if not gt_field.startswith('gt_'):
        raise ValueError(f'register_task_kind({name!r}): gt_field '
                         f'{gt_field!r} must start with "gt_"')
    if data not in _DATA_TYPES:
        raise ValueError(f'register_task_kind({name!r}): data={data!r}, use '
                         f'one of {sorted(_DATA_TYPES)}')
    if dtype not in _DTYPES:
        raise ValueError(f'register_task_kind({name!r}): dtype={dtype!r}, '
                         f'use one of {sorted(_DTYPES)}')
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f'register_task_kind({name!r}): interpolation='
                         f'{interpolation!r}, use one of {_INTERPOLATIONS}')
    if data == 'pixel' and not result_key:
        raise ValueError(f'register_task_kind({name!r}): a pixel kind needs '
                         "result_key, the pipeline key of its label map "
                         "(e.g. 'gt_boundary_map')")
    kind = TaskKind(name, gt_field, pred_field or 'pred_' + gt_field[3:],
                    data, result_key, path_key, dtype, pad_value,
                    interpolation, mirror_channel)
    old = TASK_KINDS.get(name)
    if old == kind:
        return kind
    taken = [k for k in TASK_KINDS.values() if k.name != name and (
        k.gt_field == kind.gt_field or (
            kind.result_key and k.result_key == kind.result_key))]
    if (old is not None or taken) and not force:
        clash = old or taken[0]
        raise KeyError(f'task kind {name!r} ({kind.gt_field}) clashes with '
                       f'the registered kind {clash.name!r} '
                       f'({clash.gt_field}, {clash.result_key}); choose '
                       'other names or pass force=True')
    TASK_KINDS[name] = kind
    TASK_FIELDS[name] = kind.gt_field
    for field in (kind.gt_field, kind.pred_field):
        FIELD_TYPES[field] = kind.data_type
    for listener in _LISTENERS:
        listener(kind)
    return kind


def on_register(listener) -> None:
    """Call ``listener(kind)`` for every kind, now and when one is added."""
    _LISTENERS.append(listener)
    for kind in list(TASK_KINDS.values()):
        listener(kind)


def geometry_changed(meta) -> bool:
    """Whether a sample's image was resized, padded or flipped (its
    ``img_shape``, ``scale_factor`` or ``flip`` differ from the original),
    so labels in the input frame and in the original frame differ."""
    ori = tuple(meta.get('ori_shape', ())[:2])
    img = tuple(meta.get('img_shape', ori)[:2])
    scale = meta.get('scale_factor', (1.0, 1.0))
    scale = (scale, scale) if isinstance(scale, (int, float)) else scale
    return (ori != img or bool(meta.get('flip'))
            or any(abs(float(s) - 1.0) > 1e-6 for s in scale))


def pixel_kinds():
    """The registered kinds whose label is a map, in registration order."""
    return [k for k in TASK_KINDS.values() if k.data == 'pixel']


def kind_of_result_key(key: str) -> Optional[TaskKind]:
    for kind in pixel_kinds():
        if kind.result_key == key:
            return kind
    return None


# the built-in kinds
register_task_kind('det', 'gt_instances', data='instances', dtype='float',
                   interpolation=None)
register_task_kind('seg', 'gt_sem_seg', result_key='gt_seg_map',
                   path_key='seg_map_path', dtype='long', pad_value=255,
                   interpolation='nearest')
register_task_kind('depth', 'gt_depth', result_key='gt_depth',
                   path_key='depth_path', dtype='float', pad_value=0,
                   interpolation='depth')
register_task_kind('normal', 'gt_normal', result_key='gt_normal',
                   path_key='normal_path', dtype='float', pad_value=0,
                   interpolation='normal', mirror_channel=0)
register_task_kind('enhance', 'gt_clean_img', result_key='gt_clean_img',
                   path_key='clean_img_path', dtype='keep', pad_value=0,
                   interpolation='bilinear')
register_task_kind('cls', 'gt_label', data='label', dtype='long',
                   interpolation=None)
register_task_kind('saliency', 'gt_saliency', result_key='gt_saliency',
                   path_key='saliency_path', dtype='long', pad_value=255,
                   interpolation='nearest')
register_task_kind('edge', 'gt_edge', result_key='gt_edge',
                   path_key='edge_path', dtype='long', pad_value=255,
                   interpolation='nearest')
register_task_kind('parts', 'gt_parts', result_key='gt_parts',
                   path_key='parts_path', dtype='long', pad_value=255,
                   interpolation='nearest')
