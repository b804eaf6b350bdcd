"""Photometric transforms: they change the input image only.

Targets are never touched: not the label maps, and in particular not
``gt_clean_img`` (the enhancement target must stay the clean image).
"""
import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mtlbox.registry import TRANSFORMS

from .random_state import WorkerRNG


@TRANSFORMS.register_module()
class MTLPhotometricDistortion(BaseTransform):
    """Random brightness, contrast, saturation and hue of ``img`` (BGR uint8).

    Each distortion is applied with probability ``prob`` in the order
    brightness, contrast, saturation, hue (as SSD / mmdet):
    ``img + U(-brightness_delta, brightness_delta)``,
    ``img * U(contrast_range)``, HSV ``S * U(saturation_range)``,
    ``H + U(-hue_delta, hue_delta)`` (OpenCV hue in [0, 180)).
    """

    def __init__(self, brightness_delta=32, contrast_range=(0.5, 1.5),
                 saturation_range=(0.5, 1.5), hue_delta=18, prob=0.5,
                 seed=None):
        self.brightness_delta = brightness_delta
        self.contrast_range = tuple(contrast_range)
        self.saturation_range = tuple(saturation_range)
        self.hue_delta = hue_delta
        self.prob = prob
        self.rng = WorkerRNG(seed)

    def transform(self, results):
        rng = self.rng(results)

        def coin():
            return rng.random() < self.prob

        img = results['img'].astype(np.float32)
        if coin():
            img += rng.uniform(-self.brightness_delta, self.brightness_delta)
        if coin():
            img *= rng.uniform(*self.contrast_range)
        img = np.clip(img, 0, 255)
        if img.ndim == 3 and img.shape[2] == 3:
            sat, hue = coin(), coin()
            if sat or hue:
                hsv = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2HSV)
                hsv = hsv.astype(np.float32)
                if sat:
                    hsv[..., 1] = np.clip(
                        hsv[..., 1] * rng.uniform(
                            *self.saturation_range), 0, 255)
                if hue:
                    hsv[..., 0] = (hsv[..., 0] + rng.uniform(
                        -self.hue_delta, self.hue_delta)) % 180
                img = cv2.cvtColor(hsv.astype(np.uint8),
                                   cv2.COLOR_HSV2BGR).astype(np.float32)
        results['img'] = (img + 0.5).astype(np.uint8)
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(brightness_delta='
                f'{self.brightness_delta}, contrast_range='
                f'{self.contrast_range}, saturation_range='
                f'{self.saturation_range}, hue_delta={self.hue_delta}, '
                f'prob={self.prob})')
