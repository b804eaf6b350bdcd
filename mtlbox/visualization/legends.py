"""Keys drawn under a panel's tiles: a legend of segmentation classes, a
colour bar of a scalar map, and a tile saying why it is empty. Pure numpy /
OpenCV functions -> HxWx3 uint8 RGB on white."""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
TEXT_SCALE = 0.38
LINE = 14  # pixels per legend line
SWATCH = 10


def _text_width(text: str) -> int:
    return cv2.getTextSize(text, FONT, TEXT_SCALE, 1)[0][0]


def seg_legend(labels: Sequence[int], colours: np.ndarray,
               names: Sequence[str] = (), width: int = 256) -> np.ndarray:
    """One entry per label (a colour swatch, then its class name, or the
    index where ``names`` has none), flowing left to right over lines of
    ``width`` pixels. ``colours`` [>= max label + 1, 3] RGB."""
    entries = []
    for label in sorted(int(v) for v in labels):
        name = names[label] if 0 <= label < len(names) else str(label)
        entries.append((label, name, SWATCH + 4 + _text_width(name) + 10))
    lines, x = [[]], 4
    for label, name, w in entries:
        if x + w > width and lines[-1]:
            lines.append([])
            x = 4
        lines[-1].append((label, name, x))
        x += w
    img = np.full((LINE * len(lines) + 4, width, 3), 255, np.uint8)
    for row, line in enumerate(lines):
        y = 3 + row * LINE
        for label, name, x0 in line:
            colour = tuple(int(c) for c in colours[label])
            img[y:y + SWATCH, x0:x0 + SWATCH] = colour
            cv2.rectangle(img, (x0, y), (x0 + SWATCH - 1, y + SWATCH - 1),
                          (80, 80, 80), 1)
            cv2.putText(img, name, (x0 + SWATCH + 3, y + SWATCH - 1), FONT,
                        TEXT_SCALE, (0, 0, 0), 1, cv2.LINE_AA)
    return img


def colour_bar(vrange: Tuple[float, float], width: int = 256,
               colormap: int = cv2.COLORMAP_MAGMA, unit: str = '',
               ticks: int = 3) -> np.ndarray:
    """A horizontal gradient of ``colormap`` over ``vrange`` (the range the
    tile was coloured with) with ``ticks`` values written below it (the
    ends included), e.g. ``0.52 m ... 3.10 m``."""
    lo, hi = float(vrange[0]), float(vrange[1])
    margin = 6
    ramp = np.linspace(0, 255, max(width - 2 * margin, 2)).astype(np.uint8)
    bar = cv2.applyColorMap(np.tile(ramp, (10, 1)), colormap)[..., ::-1]
    img = np.full((30, width, 3), 255, np.uint8)
    img[3:13, margin:width - margin] = bar
    cv2.rectangle(img, (margin - 1, 2), (width - margin, 13), (80, 80, 80), 1)
    for k in range(ticks):
        frac = k / max(ticks - 1, 1)
        value = lo + frac * (hi - lo)
        text = f'{value:.3g}' + (f' {unit}' if unit else '')
        x = margin + frac * (width - 2 * margin)
        x = int(np.clip(x - _text_width(text) / 2, 1,
                        width - _text_width(text) - 1))
        cv2.putText(img, text, (x, 26), FONT, TEXT_SCALE, (0, 0, 0), 1,
                    cv2.LINE_AA)
    return img


NOTE_GREY = 200


def note_tile(shape: Tuple[int, int], text: str) -> np.ndarray:
    """A light grey ``shape`` tile with ``text`` centred (e.g. "no label"
    for the ground truth of a task the image is not labelled for)."""
    h, w = shape
    img = np.full((h, w, 3), NOTE_GREY, np.uint8)
    scale = 0.5
    (tw, th), _ = cv2.getTextSize(text, FONT, scale, 1)
    cv2.putText(img, text, (max((w - tw) // 2, 1), (h + th) // 2), FONT,
                scale, (60, 60, 60), 1, cv2.LINE_AA)
    return img


def stack_footers(footers: Sequence[Optional[np.ndarray]],
                  width: int) -> Optional[np.ndarray]:
    """One row of per-column keys (None: an empty column) at a common
    height, or None when no column has a key."""
    if all(f is None for f in footers):
        return None
    height = max(f.shape[0] for f in footers if f is not None)
    cols = []
    for f in footers:
        col = np.full((height, width, 3), 255, np.uint8)
        if f is not None:
            col[:f.shape[0], :min(width, f.shape[1])] = f[:, :width]
        cols.append(col)
    return np.concatenate(cols, axis=1)
