"""Evaluation cost of every mtlbox metric (and of the detection head's
loss / post-processing) on SynthScenes.

    python tools/benchmark/eval_cost.py [--num-images 100] [--size 96 128]

Predictions are made from the ground truth with noise (jittered boxes plus
false positives up to ``--dets`` per image, 10% wrong labels, depth x
lognormal, noisy normals, clean image + noise), so the cost of a realistic
prediction is measured without a trained model. Prints, per metric, the
seconds per 100 images for ``process`` (per batch) and ``compute_metrics``
(once), the best of ``--repeat`` runs. Run with OMP_NUM_THREADS=1 for
single-core numbers.
"""
import argparse
import copy
import time

import numpy as np
import torch
from mmengine.structures import InstanceData, LabelData, PixelData


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--num-images', type=int, default=100)
    p.add_argument('--size', type=int, nargs=2, default=(96, 128))
    p.add_argument('--dets', type=int, default=100,
                   help='detections per image')
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--repeat', type=int, default=3)
    p.add_argument('--seed', type=int, default=0)
    return p.parse_args()


def make_samples(args):
    from mtlbox.registry import DATASETS
    from mtlbox.structures import MTLDataSample
    ds = DATASETS.build(dict(
        type='SynthScenes', num_samples=args.num_images,
        img_size=tuple(args.size), seed=args.seed,
        tasks=('det', 'seg', 'depth', 'normal', 'enhance'), underwater=True,
        pipeline=[dict(type='PackMTLInputs')], test_mode=True))
    rng = np.random.default_rng(args.seed)
    samples = []
    for i in range(len(ds)):
        s: MTLDataSample = ds[i]['data_samples']
        h, w = args.size
        s.set_metainfo(dict(labeled_tasks=list(s.labeled_tasks) + [
            'saliency', 'edge', 'parts', 'cls']))
        gt = s.gt_instances
        n = len(gt.bboxes)
        boxes = gt.bboxes.numpy() + rng.normal(0, 2, (n, 4))
        labels = gt.labels.numpy().copy()
        flip = rng.random(n) < 0.1
        labels[flip] = rng.integers(0, 4, flip.sum())
        extra = max(args.dets - n, 0)
        xy = rng.uniform(0, [w, h], (extra, 2))
        wh = rng.uniform(4, 40, (extra, 2))
        boxes = np.concatenate([boxes, np.concatenate([xy, xy + wh], 1)])
        labels = np.concatenate([labels, rng.integers(0, 4, extra)])
        scores = np.concatenate([rng.uniform(0.5, 1, n),
                                 rng.uniform(0, 0.7, extra)])
        s.pred_instances = InstanceData(
            bboxes=torch.tensor(boxes, dtype=torch.float32),
            labels=torch.tensor(labels), scores=torch.tensor(
                scores, dtype=torch.float32))
        seg = s.gt_sem_seg.data.clone()
        noise = torch.from_numpy(rng.random(seg.shape) < 0.1)
        seg[noise] = torch.from_numpy(rng.integers(0, 6, int(noise.sum())))
        s.pred_sem_seg = PixelData(data=seg)
        s.gt_parts = PixelData(data=s.gt_sem_seg.data.clone())
        s.pred_parts = PixelData(data=seg.clone())
        d = s.gt_depth.data
        s.pred_depth = PixelData(data=d * torch.from_numpy(
            rng.lognormal(0, 0.1, d.shape)).float())
        nrm = s.gt_normal.data + 0.2 * torch.from_numpy(
            rng.normal(size=s.gt_normal.data.shape)).float()
        s.pred_normal = PixelData(data=torch.nn.functional.normalize(nrm,
                                                                     dim=0))
        clean = s.gt_clean_img.data.float().flip(0) / 255.0  # BGR -> RGB
        s.gt_clean_img = PixelData(data=clean)
        s.pred_clean_img = PixelData(data=(clean + 0.05 * torch.from_numpy(
            rng.normal(size=clean.shape)).float()).clamp(0, 1))
        obj = (s.gt_sem_seg.data >= 2).long()
        s.gt_saliency = PixelData(data=obj)
        s.pred_saliency = PixelData(data=obj.float() * 0.7 + 0.3 * torch.
                                    from_numpy(rng.random(obj.shape)).float())
        lab = s.gt_sem_seg.data[0]
        edge = torch.zeros_like(lab)
        edge[:, 1:] |= (lab[:, 1:] != lab[:, :-1]).long()
        edge[1:, :] |= (lab[1:, :] != lab[:-1, :]).long()
        s.gt_edge = PixelData(data=edge[None])
        s.pred_edge = PixelData(data=edge[None].float() * 0.6 + 0.4 * torch.
                                from_numpy(rng.random((1, ) + edge.shape))
                                .float())
        s.gt_label = LabelData(label=torch.tensor([i % 4]))
        s.pred_label = LabelData(label=torch.tensor([(i + (i % 3 == 0)) % 4]),
                                 score=torch.full((4, ), 0.25))
        samples.append(s.to_dict())
    return samples


METRICS = [
    ('VOCMetric (area, 10 IoUs)', dict(type='VOCMetric', num_classes=4)),
    ('VOCMetric (11points)', dict(type='VOCMetric', num_classes=4,
                                  ap_mode='11points')),
    ('COCOMetric (pycocotools)', dict(type='COCOMetric', num_classes=4)),
    ('SegMetric', dict(type='SegMetric', num_classes=6)),
    ('PartsMetric', dict(type='PartsMetric', num_classes=6)),
    ('DepthMetric', dict(type='DepthMetric')),
    ('NormalMetric', dict(type='NormalMetric')),
    ('EnhanceMetric (PSNR, SSIM)', dict(type='EnhanceMetric',
                                        no_reference=False)),
    ('EnhanceMetric (+UCIQE, UIQM)', dict(type='EnhanceMetric')),
    ('SaliencyMetric', dict(type='SaliencyMetric')),
    ('EdgeMetric (99 thr, tol 2)', dict(type='EdgeMetric')),
    ('ClsMetric', dict(type='ClsMetric', num_classes=4)),
]


def time_metric(cfg, samples, batch_size, repeat):
    from mtlbox.registry import METRICS as REG
    best = (float('inf'), float('inf'))
    for _ in range(repeat):
        metric = REG.build(copy.deepcopy(cfg))
        t0 = time.perf_counter()
        for i in range(0, len(samples), batch_size):
            metric.process({}, samples[i:i + batch_size])
        t1 = time.perf_counter()
        metric.compute_metrics(metric.results)
        t2 = time.perf_counter()
        best = min(best, (t1 - t0, t2 - t1), key=sum)
    return best


def time_det_head(args):
    """ATSSDetHead loss (forward + ATSS + losses, no backward) and predict
    (forward + decode + NMS) on random 64-channel FPN maps at strides
    8/16/32 (VMM setting, 3 anchors)."""
    from mmengine.structures import InstanceData as ID

    from mtlbox.models.heads import ATSSDetHead
    from mtlbox.structures import MTLDataSample
    h, w = args.size
    head = ATSSDetHead(num_classes=20, in_channels=64, anchor_sizes=(32, 64,
                                                                     128))
    head.task = 'det'
    g = torch.Generator().manual_seed(0)
    feats = [torch.randn(args.batch_size, 64, -(-h // s), -(-w // s),
                         generator=g) for s in (8, 16, 32)]
    samples = []
    for _ in range(args.batch_size):
        s = MTLDataSample(metainfo=dict(
            labeled_tasks=['det'], img_shape=(h, w), ori_shape=(h, w),
            batch_input_shape=(h, w)))
        xy = torch.rand(5, 2, generator=g) * torch.tensor([w * .7, h * .7])
        s.gt_instances = ID(bboxes=torch.cat([xy, xy + 10 + torch.rand(
            5, 2, generator=g) * 30], 1), labels=torch.randint(0, 20, (5, )),
            ignore_flags=torch.zeros(5, dtype=torch.bool))
        samples.append(s)
    out = {}
    for name, fn in (('ATSSDetHead.loss', lambda: head.loss(feats, samples)),
                     ('ATSSDetHead.predict',
                      lambda: head.eval().predict(feats, samples))):
        best = float('inf')
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            with torch.no_grad():
                fn()
            best = min(best, time.perf_counter() - t0)
        out[name] = best / args.batch_size * 100
    return out


def main():
    args = parse_args()
    import mtlbox
    mtlbox.register_all_modules()
    t0 = time.perf_counter()
    samples = make_samples(args)
    print(f'{args.num_images} SynthScenes images {args.size[0]}x'
          f'{args.size[1]}, {args.dets} detections/image, rendered in '
          f'{time.perf_counter() - t0:.1f} s; torch threads '
          f'{torch.get_num_threads()}')
    scale = 100.0 / args.num_images
    print(f'{"metric":<32} {"process":>9} {"compute":>9} {"total":>9}'
          '   (s / 100 images)')
    for name, cfg in METRICS:
        proc, comp = time_metric(cfg, samples, args.batch_size, args.repeat)
        print(f'{name:<32} {proc * scale:9.3f} {comp * scale:9.3f} '
              f'{(proc + comp) * scale:9.3f}')
    for name, sec in time_det_head(args).items():
        print(f'{name:<32} {"":>9} {"":>9} {sec:9.3f}')


if __name__ == '__main__':
    main()
