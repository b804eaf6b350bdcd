"""Per-image multi-task panels: prediction beside ground truth."""
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.visualization import Visualizer

from mtlbox.registry import VISUALIZERS
from .colormaps import (colorize_labels, colorize_normals, colorize_scalar,
                        default_palette, label_palette, to_uint8_rgb,
                        value_range)
from .legends import colour_bar, note_tile, seg_legend, stack_footers


def _np(x):
    if isinstance(x, dict):
        x = x.get('data', x)
    if hasattr(x, 'data') and not isinstance(x, (np.ndarray, torch.Tensor)):
        x = x.data
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _resize(img: np.ndarray, shape: Tuple[int, int], nearest=False):
    if img.shape[:2] == tuple(shape):
        return img
    return cv2.resize(img, (shape[1], shape[0]), interpolation=(
        cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR))


@VISUALIZERS.register_module()
class MTLVisualizer(Visualizer):
    """Draws one panel per image: a row of predictions over a row of the
    matching ground truth, one tile per task (input, boxes, segmentation
    overlay, depth, normals, enhanced image, saliency, edges, parts).

    Boxes use mmengine's ``draw_bboxes`` / ``draw_texts``; maps are coloured
    by :mod:`mtlbox.visualization.colormaps` (depth: magma over the ground
    truth's 2-98% range shared with the prediction; normals ``(n + 1) / 2``;
    segmentation blended 50% with the input).

    Args:
        classes: detection class names: a box is labelled with its class
            name (and score); the index is drawn only for a label outside
            ``classes``.
        palette: segmentation colours [C, 3] RGB.
        seg_classes: segmentation class names (the legend under the seg
            tiles; an index stands for a class it does not name).
        score_thr: boxes below it are not drawn.
    """

    def __init__(self, name='mtl_visualizer', classes: Sequence[str] = (),
                 palette: Optional[Sequence] = None, score_thr: float = 0.3,
                 seg_classes: Sequence[str] = (), **kwargs):
        super().__init__(name=name, **kwargs)
        self.classes = list(classes or ())
        self.seg_classes = list(seg_classes or ())
        self.palette = palette
        self.score_thr = score_thr

    @staticmethod
    def label_text(label: int, classes: Sequence[str],
                   score: Optional[float] = None) -> str:
        """The text drawn at a box: the class name (the index only when
        ``classes`` does not name it), then the score if given."""
        label = int(label)
        name = classes[label] if 0 <= label < len(classes) else str(label)
        return name if score is None else f'{name} {score:.2f}'

    # ----------------------------------------------------------- tiles
    def _boxes_tile(self, image: np.ndarray, inst, with_scores: bool,
                    scale: float = 1.0, classes: Optional[Sequence] = None):
        classes = self.classes if classes is None else list(classes)
        boxes = _np(inst['bboxes'] if isinstance(inst, dict)
                    else inst.bboxes).reshape(-1, 4).astype(np.float64)
        boxes = boxes * scale
        h, w = image.shape[:2]
        boxes[:, 0::2] = boxes[:, 0::2].clip(0, w - 1)
        boxes[:, 1::2] = boxes[:, 1::2].clip(0, h - 1)
        labels = _np(inst['labels'] if isinstance(inst, dict)
                     else inst.labels).reshape(-1)
        scores = None
        if with_scores:
            scores = _np(inst['scores'] if isinstance(inst, dict)
                         else inst.scores).reshape(-1)
            keep = scores >= self.score_thr
            boxes, labels, scores = boxes[keep], labels[keep], scores[keep]
        self.set_image(image.copy())
        if len(boxes):
            colors = [tuple(int(c) for c in default_palette(
                max(len(classes), int(labels.max()) + 1))[lab])
                for lab in labels]
            self.draw_bboxes(boxes, edge_colors=colors, line_widths=1)
            texts = [self.label_text(lab, classes,
                                     None if scores is None else scores[k])
                     for k, lab in enumerate(labels)]
            self.draw_texts(texts, boxes[:, :2], font_sizes=7,
                            colors='white',
                            bboxes=[dict(facecolor='black', alpha=0.5,
                                         pad=0.5, edgecolor='none')] *
                            len(texts))
        return self.get_image()

    def draw_panel(self, image: np.ndarray, sample, min_height: int = 192,
                   classes: Optional[Sequence[str]] = None,
                   palette: Optional[Sequence] = None,
                   seg_classes: Optional[Sequence[str]] = None,
                   show_gt: Optional[bool] = None) -> np.ndarray:
        """``image``: HxWx3 uint8 RGB at the sample's ``ori_shape``;
        ``sample``: an MTLDataSample (or its dict) with ``pred_*`` and any
        ``gt_*``. Tiles are enlarged to at least ``min_height`` pixels.
        ``classes``: the detection class names of this sample's label space
        (default: the visualizer's ``classes``); boxes are labelled with
        them; ``palette`` likewise for the segmentation colours and
        ``seg_classes`` for the names in the segmentation legend.

        Rows: predictions, then ground truth (``show_gt``; default: when
        the sample has any ``gt_*``). A ground-truth tile of a task the
        image has no label for reads "no label" (a prediction missing:
        "no prediction"). Under the tiles, a key per column: the legend
        of the segmentation classes shown, the colour bar (with values) of
        depth, saliency and edges. Returns the panel HxWx3 uint8 RGB."""
        palette = self.palette if palette is None else palette
        seg_classes = self.seg_classes if seg_classes is None else \
            list(seg_classes)
        get = (sample.get if isinstance(sample, dict) else
               (lambda k, d=None: getattr(sample, k, d)))
        if show_gt is None:
            keys = sample.keys() if isinstance(sample, dict) else \
                sample.keys()
            show_gt = any(str(k).startswith('gt_') for k in keys)
        scale = max(1.0, min_height / image.shape[0])
        shape = (int(round(image.shape[0] * scale)),
                 int(round(image.shape[1] * scale)))
        image = _resize(image, shape)
        pred_row: List[np.ndarray] = [image]
        gt_row: List[np.ndarray] = [image]
        titles = ['input']
        footers: List[Optional[np.ndarray]] = [None]

        def add(title, pred, gt, footer=None):
            pred_row.append(note_tile(shape, 'no prediction') if pred is None
                            else _resize(pred, shape))
            gt_row.append(note_tile(shape, 'no label') if gt is None
                          else _resize(gt, shape))
            titles.append(title)
            footers.append(footer)

        if (get('pred_instances') is not None
                or get('gt_instances') is not None):
            add('boxes',
                self._boxes_tile(image, get('pred_instances'), True, scale,
                                 classes)
                if get('pred_instances') is not None else None,
                self._boxes_tile(image, get('gt_instances'), False, scale,
                                 classes)
                if get('gt_instances') is not None else None)
        for field, title in (('sem_seg', 'seg'), ('parts', 'parts')):
            pred, gt = get(f'pred_{field}'), get(f'gt_{field}')
            if pred is None and gt is None:
                continue
            maps = [_resize(_np(x).reshape(_np(x).shape[-2:]).astype(
                np.int32), shape, nearest=True)
                for x in (pred, gt) if x is not None and (
                    x is pred or show_gt)]
            shown = np.unique(np.concatenate([m.ravel() for m in maps]))
            shown = shown[(shown >= 0) & (shown != 255)]
            colours = label_palette(int(shown.max()) + 1 if shown.size
                                    else 1, palette)

            def overlay(x):
                lab = _resize(_np(x).reshape(_np(x).shape[-2:]).astype(
                    np.int32), shape, nearest=True)
                col = colorize_labels(lab, colours)
                return (0.5 * image + 0.5 * col).astype(np.uint8)

            add(title, None if pred is None else overlay(pred),
                None if gt is None else overlay(gt),
                seg_legend(shown, colours,
                           seg_classes if field == 'sem_seg' else (),
                           shape[1]))
        pred, gt = get('pred_depth'), get('gt_depth')
        if pred is not None or gt is not None:
            ref = _np(gt if gt is not None and show_gt else pred)
            ref = ref.reshape(ref.shape[-2:])
            rng = value_range(ref[ref > 0])
            add('depth',
                None if pred is None else colorize_scalar(
                    _np(pred).reshape(_np(pred).shape[-2:]), rng),
                None if gt is None else colorize_scalar(
                    _np(gt).reshape(_np(gt).shape[-2:]), rng,
                    invalid=_np(gt).reshape(_np(gt).shape[-2:]) <= 0),
                colour_bar(rng, shape[1], cv2.COLORMAP_MAGMA, 'm'))
        pred, gt = get('pred_normal'), get('gt_normal')
        if pred is not None or gt is not None:
            add('normal', None if pred is None else colorize_normals(
                _np(pred)), None if gt is None else colorize_normals(_np(gt)))
        pred, gt = get('pred_clean_img'), get('gt_clean_img')
        if pred is not None or gt is not None:
            add('enhance', None if pred is None else to_uint8_rgb(_np(pred)),
                None if gt is None else to_uint8_rgb(_np(gt)))
        for field in ('saliency', 'edge'):
            pred, gt = get(f'pred_{field}'), get(f'gt_{field}')
            if pred is None and gt is None:
                continue

            def prob(x):
                v = _np(x).astype(np.float64)
                v = v.reshape(v.shape[-2:])
                return colorize_scalar(v, (0, 1), invalid=v > 1,
                                       colormap=cv2.COLORMAP_BONE)

            add(field, None if pred is None else prob(pred),
                None if gt is None else prob(gt),
                colour_bar((0, 1), shape[1], cv2.COLORMAP_BONE))
        rows = [np.concatenate(pred_row, axis=1)]
        if show_gt:
            rows.append(np.concatenate(gt_row, axis=1))
        panel = np.concatenate(rows, axis=0)
        footer = stack_footers(footers, shape[1])
        if footer is not None:
            panel = np.concatenate([panel, footer], axis=0)
        return self._titles(panel, titles, shape[1],
                            ['pred', 'GT'][:len(rows)], shape[0])

    @staticmethod
    def _titles(panel, titles, width, row_names=('pred', 'GT'),
                row_height=None):
        """A title bar over the columns and the row names at the side."""
        row_height = row_height or panel.shape[0] // len(row_names)
        bar = np.full((18, panel.shape[1], 3), 255, np.uint8)
        for k, t in enumerate(titles):
            cv2.putText(bar, t, (k * width + 4, 13), cv2.FONT_HERSHEY_SIMPLEX,
                        0.45, (0, 0, 0), 1, cv2.LINE_AA)
        side = np.full((panel.shape[0] + 18, 36, 3), 255, np.uint8)
        for k, name in enumerate(row_names):
            cv2.putText(side, name, (1 if len(name) > 2 else 6,
                                     18 + k * row_height + row_height // 2),
                        0, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        return np.concatenate([side, np.concatenate([bar, panel], 0)], 1)
