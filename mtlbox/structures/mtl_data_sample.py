"""The per-image data element shared by every task of mtlbox."""
from mmengine.structures import BaseDataElement

from .task_kinds import FIELD_TYPES, TASK_FIELDS, on_register  # noqa: F401


class MTLDataSample(BaseDataElement):
    """Ground truth, predictions and meta information of one image.

    Data fields (each present only when known; a missing label is *absent*):

    - ``gt_instances`` / ``pred_instances`` (InstanceData): ``bboxes`` [N, 4]
      xyxy pixels, ``labels`` [N], optional ``ignore_flags`` [N] (VOC
      "difficult"); predictions add ``scores``.
    - ``gt_sem_seg`` (PixelData ``data`` [1, H, W] long, ignore index 255),
      ``gt_depth`` ([1, H, W] metres, 0 = invalid), ``gt_normal`` ([3, H, W]
      camera-frame unit vectors, all-zero = invalid), ``gt_clean_img``
      ([3, H, W] enhancement target), ``gt_saliency``, ``gt_edge``,
      ``gt_parts`` and ``gt_label`` (LabelData), with matching ``pred_*``.

    The typed fields come from the task-kind table
    (:mod:`mtlbox.structures.task_kinds`): a kind a plugin registers gets
    its ``gt_*`` / ``pred_*`` fields here too.

    Meta information: ``labeled_tasks`` (task keys this image has labels
    for), ``source`` (dataset name), ``img_path``, ``ori_shape``,
    ``img_shape``, ``scale_factor``, ``flip``.
    """

    def is_labeled(self, task):
        """Whether this image carries a label for ``task``."""
        return task in self.metainfo.get('labeled_tasks', ())


def _field_property(name):

    def getter(self):
        return getattr(self, f'_{name}')

    def setter(self, value):
        self.set_field(value, f'_{name}', dtype=FIELD_TYPES[name])

    def deleter(self):
        delattr(self, f'_{name}')

    return property(getter, setter, deleter)


def _install_fields(kind):
    """Typed ``gt_*`` / ``pred_*`` properties for a (new) task kind."""
    for name in (kind.gt_field, kind.pred_field):
        if not isinstance(getattr(MTLDataSample, name, None), property):
            setattr(MTLDataSample, name, _field_property(name))


on_register(_install_fields)
