"""The per-image data element shared by every task of mtlbox."""
from mmengine.structures import BaseDataElement, InstanceData, LabelData, PixelData

#: canonical task key -> the ground-truth field that labels it
TASK_FIELDS = {
    'det': 'gt_instances',
    'seg': 'gt_sem_seg',
    'depth': 'gt_depth',
    'normal': 'gt_normal',
    'enhance': 'gt_clean_img',
    'cls': 'gt_label',
    'saliency': 'gt_saliency',
    'edge': 'gt_edge',
    'parts': 'gt_parts',
}

_FIELD_TYPES = {
    'gt_instances': InstanceData, 'pred_instances': InstanceData,
    'gt_sem_seg': PixelData, 'pred_sem_seg': PixelData,
    'gt_depth': PixelData, 'pred_depth': PixelData,
    'gt_normal': PixelData, 'pred_normal': PixelData,
    'gt_clean_img': PixelData, 'pred_clean_img': PixelData,
    'gt_label': LabelData, 'pred_label': LabelData,
    'gt_saliency': PixelData, 'pred_saliency': PixelData,
    'gt_edge': PixelData, 'pred_edge': PixelData,
    'gt_parts': PixelData, 'pred_parts': PixelData,
}


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
        self.set_field(value, f'_{name}', dtype=_FIELD_TYPES[name])

    def deleter(self):
        delattr(self, f'_{name}')

    return property(getter, setter, deleter)


for _name in _FIELD_TYPES:
    setattr(MTLDataSample, _name, _field_property(_name))
