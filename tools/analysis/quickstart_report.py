"""Compare test metrics with trivial predictors on the same data.

``python tools/analysis/quickstart_report.py METRICS_JSON [--config CFG]``
prints the per-task results next to what a model that learned nothing gets
on the test set of ``CFG``: the majority class everywhere (segmentation),
the mean training depth everywhere (depth), and the mean normal (normals).
"""
import argparse
import json

import numpy as np
import torch


def trivial_baselines(cfg):
    from mtlbox.evaluation.metrics.depth_metric import (depth_scores,
                                                        depth_sums)
    from mtlbox.evaluation.metrics.normal_metric import angle_errors
    from mtlbox.evaluation.metrics.seg_metric import (confusion_matrix,
                                                      seg_scores)
    from mtlbox.registry import DATASETS

    def build(section):
        ds_cfg = cfg[section].dataset.copy()
        ds_cfg.pipeline = []
        return DATASETS.build(ds_cfg)

    train, test = build('train_dataloader'), build('test_dataloader')
    n_train = min(len(train), 200)
    depths, normals, seg_counts = [], [], np.zeros(256)
    for i in range(n_train):
        r = train.render(i)
        depths.append(r['gt_depth'][r['gt_depth'] > 0].mean())
        normals.append(r['gt_normal'].reshape(-1, 3).mean(0))
        seg_counts += np.bincount(r['gt_seg_map'].ravel(), minlength=256)
    mean_depth = float(np.mean(depths))
    mean_normal = np.mean(normals, 0)
    mean_normal /= np.linalg.norm(mean_normal)
    majority = int(seg_counts[:255].argmax())
    num_classes = len(test.metainfo['seg_classes'])
    conf, dsum, angles = 0, 0, []
    for i in range(len(test)):
        r = test.render(i)
        seg = torch.from_numpy(r['gt_seg_map'].astype(np.int64))
        conf = conf + confusion_matrix(torch.full_like(seg, majority), seg,
                                       num_classes)
        gt = torch.from_numpy(r['gt_depth'])
        dsum = dsum + depth_sums(torch.full_like(gt, mean_depth), gt)
        gtn = torch.from_numpy(r['gt_normal']).permute(2, 0, 1)
        pred = torch.from_numpy(mean_normal).float()[:, None, None].expand_as(
            gtn)
        angles.append(angle_errors(pred, gtn))
    angles = torch.cat(angles)
    return {
        'seg/mIoU': seg_scores(conf)['mIoU'],
        'depth/abs_rel': depth_scores(dsum)['abs_rel'],
        'depth/delta1': depth_scores(dsum)['delta1'],
        'normal/mean': float(angles.mean()),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('metrics', help='JSON written by tools/test.py --out')
    parser.add_argument('--config',
                        default='configs/synth/hps_r18_ew_synth.py')
    args = parser.parse_args()
    from mmengine.config import Config

    import mtlbox
    mtlbox.register_all_modules()
    with open(args.metrics) as f:
        metrics = json.load(f)
    base = trivial_baselines(Config.fromfile(args.config))
    print('\nmtlbox quick start: test set results vs a model that learned '
          'nothing')
    print(f'{"metric":<16}{"model":>10}{"trivial":>10}  better is')
    print('-' * 48)
    for key, trivial in base.items():
        if key not in metrics:
            continue
        better = 'lower' if key in ('depth/abs_rel', 'normal/mean') else \
            'higher'
        print(f'{key:<16}{metrics[key]:>10.4f}{trivial:>10.4f}  {better}')
    print('trivial = majority class / mean training depth / mean normal')


if __name__ == '__main__':
    main()
