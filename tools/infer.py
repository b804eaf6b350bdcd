"""Predict on your own images: ``python tools/infer.py CONFIG CKPT INPUT
--out-dir DIR``.

Writes, per image, ``DIR/<image>.png`` (the input and one tile per task:
class names on boxes, a legend of segmentation classes, a colour bar of
depth) and ``DIR/<image>.npz`` (the dense maps at the image's size), and
``DIR/predictions.json`` (boxes, scores, class names; a summary of each
map). See docs/inference.md.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

from mmengine.config import DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Run an mtlbox model on images')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file (.pth)')
    parser.add_argument('input', nargs='+',
                        help='image file(s) and/or folder(s) of images')
    parser.add_argument('--out-dir', required=True,
                        help='where the panels and predictions go')
    parser.add_argument('--tasks',
                        help='comma-separated tasks to predict and draw '
                        '(default: all), e.g. det,seg')
    parser.add_argument('--device', default=None,
                        help='cpu, cuda, cuda:1 ... (default: cuda when '
                        'available)')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='smallest box score drawn (all boxes above the '
                        "head's own threshold go to the JSON)")
    parser.add_argument('--source', default=None,
                        help='for a test set of several sources with '
                        'different pipelines: the one your images are like')
    parser.add_argument('--no-panels', action='store_true',
                        help='write predictions only')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, as for tools/test.py')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import cv2
    import numpy as np

    from mtlbox.apis import MTLInferencer, collect_images, result_to_json
    from mtlbox.apis.inferencer import draw_prediction
    from mtlbox.datasets.transforms.loading import read_image
    from mtlbox.visualization.vis_hook import panel_name
    files = collect_images(args.input)  # a missing input fails before loading
    inferencer = MTLInferencer(args.config, args.checkpoint,
                               device=args.device, tasks=args.tasks,
                               source=args.source,
                               cfg_options=args.cfg_options)
    os.makedirs(args.out_dir, exist_ok=True)
    records, taken, times, totals = [], set(), [], []
    for index, path in enumerate(files):
        start = time.perf_counter()
        sample = inferencer.predict_samples(path)[0]
        result = inferencer.to_result(sample)
        times.append(time.perf_counter() - start)
        name = panel_name(sample, index, taken)
        taken.add(name)
        stem = osp.splitext(name)[0]
        record, arrays = result_to_json(result)
        if arrays:
            np.savez_compressed(osp.join(args.out_dir, stem + '.npz'),
                                **arrays)
            record['maps'] = stem + '.npz'
        if not args.no_panels:
            image = read_image(path, 'color')
            if image.ndim == 2:
                image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
            panel = draw_prediction(inferencer, sample, image[..., ::-1],
                                    args.score_thr)
            cv2.imwrite(osp.join(args.out_dir, name), panel[..., ::-1])
            record['panel'] = name
        records.append(record)
        totals.append(time.perf_counter() - start)
        print(f'{path}: model {times[-1]:.2f} s, with the panel and files '
              f'{totals[-1]:.2f} s', file=sys.stderr)
    with open(osp.join(args.out_dir, 'predictions.json'), 'w') as f:
        json.dump(records, f, indent=1)
    print(f'{len(files)} image(s) -> {args.out_dir} (per image: model '
          f'{np.mean(times):.2f} s, with the panel and files '
          f'{np.mean(totals):.2f} s; the first {totals[0]:.2f} s)')


if __name__ == '__main__':
    main()
