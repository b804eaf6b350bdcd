"""Packing of non-image samples (feature vectors with real-valued targets).

The toy regression benchmark has no image and real-valued per-task targets,
which ``PackMTLInputs`` (image input, integer ``gt_label``) does not carry.
"""
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import LabelData

from mtlbox.registry import TRANSFORMS
from mtlbox.structures import MTLDataSample


@TRANSFORMS.register_module()
class PackVectorInputs(BaseTransform):
    """``results['x']`` [D] -> ``inputs`` float tensor [D]; ``results['y']``
    [T, K] -> ``data_samples.gt_label`` = ``LabelData(values=float [T, K],
    noisy=bool [T])``; meta ``task_names``, ``labeled_tasks`` (the task
    names), ``sample_idx``, ``source``.
    """

    def __init__(self, meta_keys=('sample_idx', 'source', 'task_names',
                                  'labeled_tasks')):
        self.meta_keys = tuple(meta_keys)

    def transform(self, results):
        sample = MTLDataSample()
        label = LabelData(values=torch.as_tensor(
            np.asarray(results['y'], np.float32)))
        if 'noisy' in results:
            label.noisy = torch.as_tensor(np.asarray(results['noisy'], bool))
        sample.gt_label = label
        sample.set_metainfo(
            {k: results[k] for k in self.meta_keys if k in results})
        inputs = torch.as_tensor(np.asarray(results['x'], np.float32))
        return dict(inputs=inputs, data_samples=sample)
