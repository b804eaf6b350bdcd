"""Save images of dataset samples with every label drawn, after the pipeline.

Usage::

    python tools/analysis/browse_dataset.py CONFIG --output-dir DIR \
        [--split train|val|test] [--num 20] [--cfg-options key=value ...]

Each sample becomes ``DIR/<index>_<source>.png``: the network input with its
boxes (ignored/difficult boxes in grey) and the segmentation overlay, then
one panel per other label present: depth (colour map, invalid black),
normals (``(n + 1) / 2`` as RGB, invalid black), the enhancement target,
saliency, edges, human parts. Classification labels are written on the
image. Only labels of ``labeled_tasks`` exist, so a partially labelled
sample shows only its own.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from mmengine import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

import mtlbox.datasets  # noqa: E402,F401
from mtlbox.registry import DATASETS  # noqa: E402


def _palette(n=256, seed=3):
    pal = np.random.default_rng(seed).integers(40, 255, (n, 3)).astype(
        np.uint8)
    pal[0] = 0
    pal[255] = 255
    return pal


PALETTE = _palette()


def _to_bgr_uint8(chw):
    arr = chw.detach().cpu().numpy()
    arr = np.transpose(arr, (1, 2, 0))
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    return np.ascontiguousarray(arr)


def _label_panel(label):
    return PALETTE[np.clip(label, 0, 255)]


def draw_sample(inputs, sample, classes=None):
    """List of BGR panels (first: input with boxes and seg overlay)."""
    img = _to_bgr_uint8(inputs)
    h, w = img.shape[:2]
    canvas = img.copy()
    if 'gt_sem_seg' in sample:
        seg = sample.gt_sem_seg.data[0].cpu().numpy()
        color = _label_panel(seg)
        mask = (seg > 0) & (seg != 255)
        canvas[mask] = (0.5 * canvas[mask] + 0.5 * color[mask]).astype(
            np.uint8)
    if 'gt_instances' in sample:
        inst = sample.gt_instances
        flags = inst.get('ignore_flags', None)
        for k, (box, label) in enumerate(zip(inst.bboxes.tolist(),
                                             inst.labels.tolist())):
            ignored = flags is not None and bool(flags[k])
            color = (160, 160, 160) if ignored else tuple(
                int(c) for c in PALETTE[(label + 1) % 255])
            x1, y1, x2, y2 = (int(round(v)) for v in box)
            cv2.rectangle(canvas, (x1, y1), (x2 - 1, y2 - 1), color, 1)
            name = classes[label] if classes and label < len(classes) else \
                str(label)
            cv2.putText(canvas, name, (x1, max(y1 - 2, 8)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.35, color, 1)
    if 'gt_label' in sample and 'label' in sample.gt_label:
        text = 'cls ' + ','.join(str(v) for v in
                                 sample.gt_label.label.tolist())
        cv2.putText(canvas, text, (2, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                    (0, 255, 255), 1)
    panels = [canvas]
    if 'gt_depth' in sample:
        d = sample.gt_depth.data[0].cpu().numpy()
        valid = d > 0
        scaled = np.zeros_like(d)
        if valid.any():
            lo, hi = d[valid].min(), d[valid].max()
            scaled[valid] = (d[valid] - lo) / max(hi - lo, 1e-6)
        panel = cv2.applyColorMap((scaled * 255).astype(np.uint8),
                                  cv2.COLORMAP_VIRIDIS)
        panel[~valid] = 0
        panels.append(panel)
    if 'gt_normal' in sample:
        n = sample.gt_normal.data.cpu().numpy().transpose(1, 2, 0)
        panel = ((n + 1) * 127.5).clip(0, 255).astype(np.uint8)[..., ::-1]
        panel[np.abs(n).sum(-1) == 0] = 0
        panels.append(np.ascontiguousarray(panel))
    if 'gt_clean_img' in sample:
        panels.append(_to_bgr_uint8(sample.gt_clean_img.data))
    for field in ('gt_saliency', 'gt_edge', 'gt_parts'):
        if field in sample:
            lab = getattr(sample, field).data[0].cpu().numpy()
            panels.append(_label_panel(lab) if field == 'gt_parts' else
                          np.repeat((lab[..., None] > 0) * 255, 3,
                                    2).astype(np.uint8))
    return [cv2.resize(p, (w, h), interpolation=cv2.INTER_NEAREST)
            if p.shape[:2] != (h, w) else p for p in panels]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--output-dir', required=True)
    parser.add_argument('--split', default='train',
                        choices=('train', 'val', 'test'))
    parser.add_argument('--num', type=int, default=20)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mtlbox'))
    dataset = DATASETS.build(cfg[f'{args.split}_dataloader'].dataset)
    classes = dataset.metainfo.get('classes')
    os.makedirs(args.output_dir, exist_ok=True)
    written = []
    for i in range(min(args.num, len(dataset))):
        item = dataset[i]
        sample = item['data_samples']
        if item['inputs'].dim() != 3:
            print(f'sample {i}: input is not an image; nothing to draw')
            continue
        panels = draw_sample(item['inputs'], sample, classes)
        out = np.concatenate(panels, axis=1)
        source = str(sample.metainfo.get('source', 'sample')).replace('/', '_')
        path = osp.join(args.output_dir, f'{i:05d}_{source}.png')
        cv2.imwrite(path, out)
        written.append(path)
        print(f'{path}: tasks {sample.metainfo.get("labeled_tasks")}')
    return written


if __name__ == '__main__':
    main()
