"""Geometric transforms that keep every task's labels consistent."""
import numpy as np
from mmcv.transforms import BaseTransform

from mtlbox.registry import TRANSFORMS

_MAPS = ('gt_seg_map', 'gt_depth', 'gt_normal', 'gt_clean_img', 'gt_saliency',
         'gt_edge', 'gt_parts')


@TRANSFORMS.register_module()
class MTLRandomFlip(BaseTransform):
    """Horizontal flip of the image and every label with probability ``prob``.

    Boxes are mirrored (``x1' = W - x2``); dense maps are flipped; surface
    normals also negate their x component (camera x points right), which a
    plain image flip would get wrong.
    """

    def __init__(self, prob: float = 0.5, seed=None):
        if not 0 <= prob <= 1:
            raise ValueError(f'MTLRandomFlip prob={prob} not in [0, 1]')
        self.prob = prob
        self.rng = np.random.default_rng(seed)

    def transform(self, results):
        flip = bool(self.rng.random() < self.prob)
        results['flip'] = flip
        results['flip_direction'] = 'horizontal' if flip else None
        if not flip:
            return results
        w = results['img'].shape[1]
        results['img'] = np.ascontiguousarray(results['img'][:, ::-1])
        for key in _MAPS:
            if key in results:
                results[key] = np.ascontiguousarray(results[key][:, ::-1])
        if 'gt_normal' in results:
            normal = results['gt_normal'].copy()
            normal[..., 0] *= -1
            results['gt_normal'] = normal
        if 'gt_bboxes' in results:
            boxes = np.asarray(results['gt_bboxes'], np.float32).copy()
            boxes[:, [0, 2]] = w - boxes[:, [2, 0]]
            results['gt_bboxes'] = boxes
        return results
