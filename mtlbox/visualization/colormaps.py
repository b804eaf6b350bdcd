"""Colour maps of task outputs: pure numpy functions -> HxWx3 uint8 RGB."""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np


def default_palette(num_classes: int, seed: int = 7) -> np.ndarray:
    """Deterministic distinct-ish colours [num_classes, 3] uint8."""
    rng = np.random.default_rng(seed)
    return rng.integers(40, 256, size=(max(num_classes, 1), 3),
                        dtype=np.uint8)


def label_palette(num_classes: int, palette: Optional[Sequence] = None
                  ) -> np.ndarray:
    """The colours [>= num_classes, 3] uint8 RGB of labels ``0..num-1``:
    ``palette``, completed by :func:`default_palette` (whose first rows do
    not depend on its length, so a legend and a map agree)."""
    pal = np.asarray(palette if palette is not None else
                     default_palette(num_classes), np.uint8).reshape(-1, 3)
    if len(pal) < num_classes:
        pal = np.concatenate([pal, default_palette(num_classes)[len(pal):]])
    return pal


def colorize_labels(labels: np.ndarray, palette: Optional[Sequence] = None,
                    ignore_index: int = 255) -> np.ndarray:
    """Label map [H, W] -> RGB; ``ignore_index`` (and labels beyond the
    palette) black."""
    labels = np.asarray(labels).astype(np.int64)
    valid = (labels >= 0) & (labels != ignore_index)
    num = int(labels[valid].max()) + 1 if valid.any() else 1
    pal = label_palette(num, palette)
    out = np.zeros(labels.shape + (3, ), np.uint8)
    out[valid] = pal[labels[valid]]
    return out


def colorize_scalar(values: np.ndarray, vrange: Optional[Tuple[float,
                                                                float]] = None,
                    invalid: Optional[np.ndarray] = None,
                    colormap: int = cv2.COLORMAP_MAGMA) -> np.ndarray:
    """Scalar map [H, W] (depth, probability) -> RGB via an OpenCV colour
    map over ``vrange`` (default: the 2nd-98th percentile of the valid
    values); ``invalid`` pixels black. Share ``vrange`` between a
    prediction and its ground truth so colours compare."""
    values = np.asarray(values, np.float64)
    mask = np.isfinite(values)
    if invalid is not None:
        mask &= ~np.asarray(invalid, bool)
    if vrange is None:
        vrange = value_range(values[mask])
    lo, hi = vrange
    norm = np.clip((values - lo) / max(hi - lo, 1e-12), 0, 1)
    img = cv2.applyColorMap((norm * 255).astype(np.uint8), colormap)
    img = img[..., ::-1].copy()
    img[~mask] = 0
    return img


def value_range(values: np.ndarray) -> Tuple[float, float]:
    """2nd-98th percentiles (0, 1 when empty)."""
    values = np.asarray(values).ravel()
    if values.size == 0:
        return 0.0, 1.0
    return float(np.percentile(values, 2)), float(np.percentile(values, 98))


def colorize_normals(normals: np.ndarray) -> np.ndarray:
    """Normals [3, H, W] -> RGB ``(n + 1) / 2 * 255``; all-zero
    (invalid) pixels black."""
    n = np.asarray(normals, np.float64)
    invalid = np.abs(n).sum(0) == 0
    img = ((np.clip(n, -1, 1) + 1) / 2 * 255).round().astype(np.uint8)
    img = img.transpose(1, 2, 0).copy()
    img[invalid] = 0
    return img


def to_uint8_rgb(img: np.ndarray) -> np.ndarray:
    """[3, H, W] or [H, W, 3] float in [0, 1] (or uint8) -> HxWx3 uint8."""
    img = np.asarray(img)
    if img.ndim == 3 and img.shape[0] == 3 and img.shape[-1] != 3:
        img = img.transpose(1, 2, 0)
    if img.dtype != np.uint8:
        img = (np.clip(img, 0, 1) * 255).round().astype(np.uint8)
    return np.ascontiguousarray(img)
