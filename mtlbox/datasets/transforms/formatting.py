"""Packing pipeline results into model inputs and an MTLDataSample."""
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import InstanceData, LabelData, PixelData

from mtlbox.registry import TRANSFORMS
from mtlbox.structures import TASK_FIELDS, MTLDataSample, pixel_kinds

from .geometric import FRAME_CHANGED_BY, ORIGINAL_LABELS

_GT_FRAMES = ('auto', 'input', 'original')

def _chw(array: np.ndarray) -> torch.Tensor:
    array = np.ascontiguousarray(array)
    tensor = torch.from_numpy(array)
    return tensor[None] if array.ndim == 2 else tensor.permute(2, 0, 1)


@TRANSFORMS.register_module()
class PackMTLInputs(BaseTransform):
    """Pack ``results`` into ``dict(inputs=Tensor[3, H, W], data_samples=...)``.

    Only labels of tasks in ``results['labeled_tasks']`` are packed: a task a
    sample is not labelled for has no ``gt_*`` field at all (never a fake
    value). Result keys (see docs/datasets.md):

    ============================  =================================
    ``img``                       HWC uint8 (BGR, as ``mmcv.imread``)
    ``gt_bboxes`` [N, 4] xyxy,    -> ``gt_instances`` (task ``det``)
    ``gt_bboxes_labels`` [N],
    ``gt_ignore_flags`` [N]
    ``gt_seg_map`` HW             -> ``gt_sem_seg`` (``seg``), long
    ``gt_depth`` HW float         -> ``gt_depth`` (``depth``)
    ``gt_normal`` HW3 float       -> ``gt_normal`` (``normal``)
    ``gt_clean_img`` HW3 uint8    -> ``gt_clean_img`` (``enhance``)
    ``gt_saliency``/``gt_edge``/  -> same names, long
    ``gt_parts`` HW
    ``gt_label`` int / [K]        -> ``gt_label`` (``cls``)
    ============================  =================================

    The pixel labels come from the task-kind table
    (:func:`~mtlbox.structures.register_task_kind`): a kind a plugin
    registers is packed from its ``result_key`` with its ``dtype``.

    Task names other than the canonical keys (Office-Home domains, the left
    and right digit of Multi-MNIST, CIFAR-10 one-vs-rest tasks) are mapped to
    the field that labels them with ``task_map``, e.g.
    ``task_map=dict(left='cls', right='cls')``: ``labeled_tasks`` keeps the
    task names, the label is packed as the canonical task's field. A
    dataset may declare its own mapping (``MTLBaseDataset.task_map``, given
    with each sample as ``results['task_map']``: the Office and CelebA
    datasets); the config's ``task_map`` wins over it.

    **Frame of the ground truth.** Losses need labels in the network's input
    frame (resized, padded, flipped with the image); metrics compare
    predictions mapped back to the original image with labels in the
    *original* frame (as read from disk), as mmdet and mmseg do.
    ``gt_frame='input'`` packs the labels as the pipeline left them;
    ``'original'`` packs the labels recorded before the first geometric
    transform (:func:`~mtlbox.datasets.transforms.geometric.keep_original_labels`;
    labels loaded after the geometric transforms are already original);
    ``'auto'`` (default) is ``'original'`` when the dataset is in test mode
    (``results['test_mode']``, set by mtlbox's datasets) and ``'input'``
    otherwise. The choice is recorded as ``gt_frame`` meta information, and
    metrics refuse input-frame labels of a sample whose geometry changed.
    A test pipeline that crops or expands the canvas cannot be undone by the
    predictions: packing it in the original frame raises.

    Args:
        meta_keys: meta information copied into the sample when present.
        task_map: ``{task name: canonical task key}`` for packing.
        gt_frame: ``'auto'``, ``'input'`` or ``'original'`` (above).
    """

    def __init__(self,
                 meta_keys=('img_path', 'ori_shape', 'img_shape',
                            'scale_factor', 'flip', 'flip_direction',
                            'sample_idx', 'source', 'labeled_tasks',
                            'task_names', 'task_name'),
                 task_map=None, gt_frame: str = 'auto'):
        if gt_frame not in _GT_FRAMES:
            raise ValueError(f'PackMTLInputs gt_frame={gt_frame!r}: use one '
                             f'of {_GT_FRAMES}')
        self.gt_frame = gt_frame
        self.meta_keys = tuple(meta_keys)
        self.task_map = dict(task_map or {})
        bad = {k: v for k, v in self.task_map.items() if v not in TASK_FIELDS}
        if bad:
            raise KeyError(f'PackMTLInputs task_map {bad}: values must be '
                           f'canonical task keys {sorted(TASK_FIELDS)}')

    def transform(self, results: dict) -> dict:
        if 'img' not in results:
            raise KeyError('PackMTLInputs: results has no "img"; the pipeline '
                           f'must load the image first (keys: {sorted(results)})')
        img = results['img']
        if img.ndim == 2:
            img = img[..., None]
        inputs = _chw(img)
        results.setdefault('img_shape', img.shape[:2])
        results.setdefault('ori_shape', img.shape[:2])
        labeled = list(results.get('labeled_tasks', ()))
        task_map = {**results.pop('task_map', {}), **self.task_map}
        unknown = [t for t in labeled
                   if task_map.get(t, t) not in TASK_FIELDS]
        if unknown:
            raise KeyError(
                f'labeled_tasks {unknown} of {results.get("img_path")} are '
                f'not task kinds ({sorted(TASK_FIELDS)}); map them with '
                "PackMTLInputs(task_map={name: 'cls', ...}) or register a "
                'new kind with mtlbox.structures.register_task_kind(...)')
        results['labeled_tasks'] = labeled
        kinds = {task_map.get(t, t) for t in labeled}
        frame = self.gt_frame
        if frame == 'auto':
            frame = 'original' if results.get('test_mode') else 'input'
        if frame == 'original':
            results = self._original_labels(results, kinds)
        sample = MTLDataSample()
        if 'det' in kinds:
            self._pack_instances(results, sample)
        for kind in pixel_kinds():
            if kind.name not in kinds:
                continue
            key = kind.result_key
            if key not in results:
                raise KeyError(f'{results.get("img_path", "sample")} is '
                               f'labelled for {kind.name!r} but has no '
                               f'{key!r}')
            data = _chw(results[key])
            if kind.torch_dtype is not None:
                data = data.to(kind.torch_dtype)
            setattr(sample, kind.gt_field, PixelData(data=data))
        if 'cls' in kinds:
            sample.gt_label = LabelData(
                label=torch.as_tensor(results['gt_label']).long().reshape(-1))
        sample.set_metainfo(
            {k: results[k] for k in self.meta_keys if k in results})
        sample.set_metainfo(dict(gt_frame=frame))
        return dict(inputs=inputs, data_samples=sample)

    @staticmethod
    def _original_labels(results: dict, kinds) -> dict:
        """``results`` with every ``gt_*`` entry recorded before the first
        geometric transform put back (a shallow copy)."""
        framed = kinds - {'cls'}
        changed = results.get(FRAME_CHANGED_BY)
        if changed and framed:
            raise ValueError(
                f'{results.get("img_path", "sample")}: the test pipeline '
                f'runs {changed}, which predictions cannot be mapped back '
                'through, so labels cannot be compared in the original image '
                'frame; remove it from the val/test pipeline, or pack with '
                "PackMTLInputs(gt_frame='input') to evaluate in the input "
                'frame')
        original = results.get(ORIGINAL_LABELS)
        if not original:
            return results
        out = dict(results)
        out.update(original)
        return out

    @staticmethod
    def _pack_instances(results, sample):
        for key in ('gt_bboxes', 'gt_bboxes_labels'):
            if key not in results:
                raise KeyError(f'{results.get("img_path", "sample")} is '
                               f'labelled for "det" but has no {key!r}')
        bboxes = np.asarray(results['gt_bboxes'], np.float32).reshape(-1, 4)
        instances = InstanceData()
        instances.bboxes = torch.from_numpy(bboxes)
        instances.labels = torch.as_tensor(
            np.asarray(results['gt_bboxes_labels']), dtype=torch.long)
        flags = results.get('gt_ignore_flags')
        if flags is None:
            flags = np.zeros(len(bboxes), bool)
        instances.ignore_flags = torch.as_tensor(np.asarray(flags, bool))
        sample.gt_instances = instances

    def __repr__(self):
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'
