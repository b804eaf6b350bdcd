"""Detection parity: mtlbox's ATSSDetHead against torchvision's detectors.

Every detector gets the same trunk (ResNet-18, random init, + mtlbox's FPN
at strides 8/16/32, 64 channels; one seeded initialisation copied into each
detector), the same SynthScenes detection data (training and held-out
scenes, the same batches in the same order), the same optimiser (AdamW) and
learning-rate schedule (linear warm-up from 0.1x, then cosine to ``1e-5``),
and the same evaluation: COCO AP / AP50 by pycocotools through mtlbox's
``coco_evaluate`` on the held-out split, at several points of the run.

Detectors (``--detectors``):

- ``atss``: mtlbox's ``MultiTaskModel`` with one ``ATSSDetHead`` (the head of
  ``configs/synth/amtl_r18_det_seg_depth_synth.py``: anchors 16/32/64,
  ratios 1/2/0.5, IoU-aware focal + CIoU x 10, ATSS topk 27);
- ``atss_mmdet``: the same head with mmdet's ATSS recipe (:data:`ATSS_MMDET`:
  one conv-GN-ReLU per branch shared across levels, centre-ness branch,
  focal loss with hard targets + CIoU x 2 + centre-ness BCE);
- ``fcos``: ``torchvision.models.detection.FCOS`` (its own ``FCOSHead``:
  4 conv-GN-ReLU per branch, focal + GIoU + centerness, centre sampling);
- ``retinanet``: ``torchvision.models.detection.RetinaNet`` (its own
  ``RetinaNetHead``: 4 convs per branch, focal + L1, IoU matcher 0.5/0.4),
  anchors 16/32/64 x 2^(0, 1/3, 2/3) x ratios 0.5/1/2.

The torchvision models are built with ``weights=None`` semantics (their
constructors take the trunk directly, nothing is downloaded), and are given
mtlbox's normalised, padded batch: their own transform neither normalises
(mean 0, std 1) nor resizes. Post-processing is aligned for all detectors:
score > 0.01, NMS 0.5, at most 100 detections per image (COCO's maxDets).

Run sequentially in one process; each detector starts from the same seed.
Prints one row per evaluation point: ``iter | <det> AP50 ... | <det> AP ...``.

Example (the table of docs/heads.md)::

    .venv/bin/python tools/benchmark/det_parity.py --iters 400 \\
        --eval-at 0 50 100 200 400 --batch-size 8 --threads 1
"""
import argparse
import copy
import json
import math
import os
import sys
import time
from collections import OrderedDict
from typing import Dict, List, Sequence

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.structures import InstanceData
from torch import nn

from mtlbox.evaluation.metrics.coco_metric import coco_evaluate
from mtlbox.evaluation.metrics.voc_metric import (COCO_IOUS, detection_pairs,
                                                  voc_map)
from mtlbox.registry import DATASETS, MODELS
from mtlbox import register_all_modules

DETECTORS = ('atss', 'atss_mmdet', 'fcos', 'retinanet')
#: ``atss_mmdet``: the twin's head with mmdet's ATSS recipe on one conv per
#: branch (towers shared across levels with GroupNorm, centre-ness branch,
#: focal loss with hard targets, box loss x 2)
ATSS_MMDET = dict(share_levels=True, norm_cfg=dict(type='GN', num_groups=16),
                  centerness=True, hard_targets=True,
                  loss_bbox=dict(type='CIoULoss', loss_weight=2.0))
NUM_CLASSES = 4  # SynthScenes object classes


# ------------------------------------------------------------------- data
def build_split(num_samples: int, img_size, seed: int, test_mode: bool):
    """Packed SynthScenes detection samples (rendered once, kept)."""
    dataset = DATASETS.build(dict(
        type='SynthScenes', num_samples=num_samples, img_size=img_size,
        seed=seed, tasks=('det', ), cache=False, test_mode=test_mode,
        pipeline=[dict(type='PackMTLInputs')]))
    return [dataset[i] for i in range(len(dataset))]


def batch_orders(num_train: int, batch_size: int, iters: int, seed: int):
    """Index lists of every training batch (epochs of seeded shuffles)."""
    g = torch.Generator().manual_seed(seed)
    order: List[int] = []
    while len(order) < iters * batch_size:
        order += torch.randperm(num_train, generator=g).tolist()
    return [order[i * batch_size:(i + 1) * batch_size] for i in range(iters)]


# ------------------------------------------------------------------ model
TRUNKS = dict(
    # ResNet-18 + mtlbox's FPN (the synth twin's trunk)
    r18_fpn=dict(backbone=dict(type='ResNet', depth=18, out_indices=(1, 2, 3)),
                 neck=dict(type='FPN', in_channels=[128, 256, 512],
                           out_channels=64)),
    # the flagship's trunk: EfficientNet-V2-S + TRIV2-BiFPN (VMM, AMTL)
    vmm=dict(backbone=dict(type='EfficientNetV2', arch='s',
                           out_indices=(1, 2, 3)),
             neck=dict(type='TRIV2BiFPN', in_channels=[64, 160, 256],
                       out_channels=64, num_repeats=2)))
TRUNK = TRUNKS['r18_fpn']  # set by --trunk
PREPROCESSOR = dict(type='MTLDataPreprocessor', mean=(123.675, 116.28, 103.53),
                    std=(58.395, 57.12, 57.375), bgr_to_rgb=True,
                    pad_size_divisor=32)


class Trunk(nn.Module):
    """The trunk (backbone + neck at strides 8/16/32, 64 channels) returning
    torchvision's ``OrderedDict`` of levels."""

    out_channels = 64

    def __init__(self):
        super().__init__()
        self.backbone = MODELS.build(TRUNK['backbone'])
        self.neck = MODELS.build(TRUNK['neck'])

    def forward(self, x):
        feats = self.neck(self.backbone(x))
        return OrderedDict((str(i), f) for i, f in enumerate(feats))


#: the detection head under test is read from this config (the AMTL synth
#: twin), so the benchmark follows any change of it
TWIN_CONFIG = 'configs/synth/amtl_r18_det_seg_depth_synth.py'


def atss_head_cfg(**overrides) -> dict:
    """The twin's ``ATSSDetHead`` config, at most 100 detections per image
    (COCO's maxDets, as the torchvision detectors), plus ``overrides``."""
    from mmengine.config import Config
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    cfg = Config.fromfile(os.path.join(root, TWIN_CONFIG))
    head = cfg.model.heads.det.to_dict()
    if head.get('num_classes') != NUM_CLASSES:
        raise ValueError(f'{TWIN_CONFIG}: the det head has num_classes='
                         f'{head.get("num_classes")}, SynthScenes has '
                         f'{NUM_CLASSES}')
    head.update(max_per_img=100)
    head.update(overrides)
    return head


class MtlboxDetector(nn.Module):
    """mtlbox's model (``MultiTaskModel`` + ``ATSSDetHead``)."""

    def __init__(self, trunk_state, head_overrides=None):
        super().__init__()
        self.model = MODELS.build(dict(
            type='MultiTaskModel', data_preprocessor=PREPROCESSOR,
            heads=dict(det=atss_head_cfg(**(head_overrides or {}))),
            **TRUNK))
        trunk = Trunk()
        trunk.load_state_dict(trunk_state)
        self.model.backbone.load_state_dict(trunk.backbone.state_dict())
        self.model.neck.load_state_dict(trunk.neck.state_dict())

    def losses(self, inputs, samples) -> Dict[str, torch.Tensor]:
        out = self.model.loss(inputs, samples)
        return {k.split('.', 1)[1]: v for k, v in out.items()}

    @torch.no_grad()
    def predict(self, inputs, samples):
        self.model.predict(inputs, samples)


class TorchvisionDetector(nn.Module):
    """A torchvision single-stage detector on the shared trunk."""

    def __init__(self, kind: str, trunk_state, img_size):
        super().__init__()
        from torchvision.models.detection import FCOS, RetinaNet
        from torchvision.models.detection.anchor_utils import AnchorGenerator
        trunk = Trunk()
        trunk.load_state_dict(trunk_state)
        h, w = img_size
        common = dict(min_size=min(h, w), max_size=max(h, w),
                      image_mean=[0.0, 0.0, 0.0], image_std=[1.0, 1.0, 1.0],
                      score_thresh=0.01, nms_thresh=0.5,
                      detections_per_img=100)
        if kind == 'fcos':
            # FCOS reads the anchor side as the level's stride
            anchors = AnchorGenerator(((8, ), (16, ), (32, )),
                                      ((1.0, ), ) * 3)
            self.net = FCOS(trunk, NUM_CLASSES, anchor_generator=anchors,
                            **common)
        elif kind == 'retinanet':
            sizes = tuple(tuple(s * 2**(k / 3) for k in range(3))
                          for s in (16, 32, 64))
            anchors = AnchorGenerator(sizes, ((0.5, 1.0, 2.0), ) * 3)
            self.net = RetinaNet(trunk, NUM_CLASSES, anchor_generator=anchors,
                                 **common)
        else:
            raise ValueError(f'det_parity: unknown detector {kind!r}; choose '
                             f'from {DETECTORS}')
        # the batch is already normalised and padded by mtlbox: no resize
        self.net.transform.resize = lambda image, target=None: (image, target)

    @staticmethod
    def _targets(samples):
        return [dict(boxes=s.gt_instances.bboxes.float(),
                     labels=s.gt_instances.labels.long()) for s in samples]

    def losses(self, inputs, samples):
        self.net.train()
        return self.net(list(inputs), self._targets(samples))

    @torch.no_grad()
    def predict(self, inputs, samples):
        out = self.net(list(inputs))
        for sample, det in zip(samples, out):
            pred = InstanceData()
            pred.bboxes, pred.scores = det['boxes'], det['scores']
            pred.labels = det['labels']
            sample.pred_instances = pred


def build_detector(kind, trunk_state, img_size, head_overrides=None):
    if kind == 'atss':
        return MtlboxDetector(trunk_state, head_overrides)
    if kind == 'atss_mmdet':
        return MtlboxDetector(trunk_state,
                              dict(ATSS_MMDET, **(head_overrides or {})))
    return TorchvisionDetector(kind, trunk_state, img_size)


# -------------------------------------------------------------- schedule
def lr_factor(it: int, iters: int, warmup: int, base_lr: float,
              eta_min: float = 1e-5) -> float:
    """Linear warm-up 0.1 -> 1 over ``warmup`` iterations times cosine from
    ``base_lr`` to ``eta_min`` over the run (the synth configs' schedule)."""
    warm = 1.0 if warmup <= 0 else min(1.0, 0.1 + 0.9 * it / warmup)
    cos = eta_min + (base_lr - eta_min) * (
        1 + math.cos(math.pi * it / iters)) / 2
    return warm * cos / base_lr


# ------------------------------------------------------------- evaluate
def evaluate(detector, preprocessor, val, batch_size) -> Dict[str, float]:
    detector.eval()
    pairs = []
    for i in range(0, len(val), batch_size):
        data = preprocessor(pseudo_collate(copy.deepcopy(
            val[i:i + batch_size])), False)
        detector.predict(data['inputs'], data['data_samples'])
        pairs += detection_pairs([s.to_dict() for s in data['data_samples']],
                                 'det', 'det_parity')
    stats = coco_evaluate(pairs, NUM_CLASSES, 100)
    # VOC matching (all-point AP), AMTL's mAP = mean over IoU 0.50:0.95,
    # the metric of the synth configs' VOCMetric
    voc = voc_map(pairs, NUM_CLASSES, COCO_IOUS)
    per_thr = [float(np.nanmean(v)) if np.isfinite(v).any() else 0.0
               for v in voc]
    detector.train()
    return dict(AP=float(stats[0]), AP50=float(stats[1]),
                voc_mAP=float(np.mean(per_thr)), voc_AP50=per_thr[0])


def run_one(kind, trunk_state, train, val, orders, args, log) -> dict:
    torch.manual_seed(args.seed)
    detector = build_detector(kind, trunk_state, tuple(args.img_size),
                              getattr(args, 'atss_overrides', None))
    preprocessor = MODELS.build(PREPROCESSOR)
    optimizer = torch.optim.AdamW(detector.parameters(), lr=args.lr,
                                  weight_decay=args.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda it: lr_factor(it, args.iters, args.warmup, args.lr))
    curve, losses_at, start = {}, {}, time.time()
    detector.train()
    last = args.iters if args.stop_at is None else args.stop_at
    for it in range(last + 1):
        if it in args.eval_at:
            curve[it] = evaluate(detector, preprocessor, val, args.batch_size)
            log(f'[{kind}] iter {it}: AP50 {curve[it]["AP50"]:.3f} '
                f'AP {curve[it]["AP"]:.3f} VOC mAP '
                f'{curve[it]["voc_mAP"]:.3f} ({time.time() - start:.0f}s)')
        if it == last:
            break
        data = preprocessor(pseudo_collate(copy.deepcopy(
            [train[j] for j in orders[it]])), True)
        losses = detector.losses(data['inputs'], data['data_samples'])
        total = sum(losses.values())
        optimizer.zero_grad()
        total.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(
            detector.parameters(),
            args.clip if args.clip > 0 else float('inf'))
        optimizer.step()
        schedule.step()
        if it in args.eval_at or it % args.log_every == 0:
            losses_at[it] = {k: float(v.detach()) for k, v in losses.items()}
            losses_at[it]['grad_norm'] = float(grad_norm)
            log(f'[{kind}] iter {it}: ' + ' '.join(
                f'{k} {v:.4f}' for k, v in losses_at[it].items()))
    return dict(curve=curve, losses=losses_at,
                seconds=time.time() - start)


def _table(names: Sequence[str], eval_at: Sequence[int], cell) -> str:
    """Markdown rows ``iter | <det> AP50 ... | <det> AP ...``; ``cell(name,
    it, key)`` gives each value."""
    head = (['iter'] + [f'{n} AP50' for n in names] +
            [f'{n} AP' for n in names])
    lines = ['| ' + ' | '.join(head) + ' |',
             '| ' + ' | '.join(['---'] * len(head)) + ' |']
    for it in eval_at:
        row = [str(it)] + [cell(n, it, key) for key in ('AP50', 'AP')
                           for n in names]
        lines.append('| ' + ' | '.join(row) + ' |')
    return '\n'.join(lines)


def format_table(results: Dict[str, dict], eval_at: Sequence[int]) -> str:
    return _table(list(results), eval_at,
                  lambda n, it, key: f'{results[n]["curve"][it][key]:.3f}')


def format_mean_table(runs: List[Dict[str, dict]],
                      eval_at: Sequence[int]) -> str:
    """Mean +- std (over the runs, one per seed) of AP50 and AP."""
    def cell(n, it, key):
        vals = np.array([r[n]['curve'][it][key] for r in runs])
        return f'{vals.mean():.3f} +- {vals.std():.3f}'
    return _table(list(runs[0]), eval_at, cell)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--detectors', nargs='+', default=list(DETECTORS),
                   choices=DETECTORS)
    p.add_argument('--iters', type=int, default=400)
    p.add_argument('--eval-at', type=int, nargs='+', default=None,
                   help='iterations to evaluate at (default 0 and 1/8, 1/4, '
                   '1/2, 1 of --iters)')
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--img-size', type=int, nargs=2, default=(96, 128),
                   metavar=('H', 'W'))
    p.add_argument('--train-size', type=int, default=400)
    p.add_argument('--val-size', type=int, default=128)
    p.add_argument('--lr', type=float, default=2e-3)
    p.add_argument('--weight-decay', type=float, default=1e-4)
    p.add_argument('--warmup', type=int, default=50)
    p.add_argument('--clip', type=float, default=0.0,
                   help='gradient-norm clip (0: none, as the synth configs)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--seeds', type=int, nargs='+', default=None,
                   help='run every seed in turn (overrides --seed) and add '
                   'a table of the mean +- std over them')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--log-every', type=int, default=25)
    p.add_argument('--trunk', choices=sorted(TRUNKS), default='r18_fpn',
                   help='shared trunk: r18_fpn (the synth twin\'s) or vmm '
                   '(the flagship\'s EfficientNet-V2-S + TRIV2-BiFPN)')
    p.add_argument('--atss-cfg', type=json.loads, default={},
                   help='JSON overrides of the ATSSDetHead config of '
                   'atss and atss_mmdet, e.g. '
                   '\'{"num_convs": 4}\' (default: the synth twin\'s head)')
    p.add_argument('--stop-at', type=int, default=None,
                   help='stop training after this iteration, keeping the '
                   'schedule of --iters (probes of the early points)')
    p.add_argument('--json', default=None, help='write the results here')
    args = p.parse_args(argv)
    if args.eval_at is None:
        args.eval_at = sorted({0, args.iters // 8, args.iters // 4,
                               args.iters // 2, args.iters})
    last = args.iters if args.stop_at is None else args.stop_at
    if not 0 <= last <= args.iters:
        p.error(f'--stop-at {last} is outside 0..--iters {args.iters}')
    args.eval_at = sorted({i for i in args.eval_at if 0 <= i <= last})
    args.warmup = min(args.warmup, args.iters)
    args.atss_overrides = dict(args.atss_cfg)
    return args


def main(argv=None):
    global TRUNK
    args = parse_args(argv)
    TRUNK = TRUNKS[args.trunk]
    torch.set_num_threads(args.threads)
    register_all_modules()

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    train = build_split(args.train_size, tuple(args.img_size), 0, False)
    val = build_split(args.val_size, tuple(args.img_size), 1, True)
    seeds = args.seeds or [args.seed]
    runs = OrderedDict()
    for seed in seeds:
        args.seed = seed
        orders = batch_orders(len(train), args.batch_size, args.iters, seed)
        torch.manual_seed(seed)
        trunk_state = copy.deepcopy(Trunk().state_dict())
        runs[seed] = OrderedDict(
            (kind, run_one(kind, trunk_state, train, val, orders, args, log))
            for kind in args.detectors)
    print(f'# det_parity: {args.trunk} trunk, {args.iters} iterations'
          + (f' (stopped at {args.stop_at})' if args.stop_at is not None
             else '') + f', batch {args.batch_size}, '
          f'{args.img_size[0]}x{args.img_size[1]}, {args.train_size} train / '
          f'{args.val_size} val scenes, {args.threads} thread(s); '
          'COCO AP50 / AP on the val split')
    for seed, results in runs.items():
        print(f'## seed {seed}')
        print(format_table(results, args.eval_at))
    if len(seeds) > 1:
        print(f'## mean +- std over seeds {seeds}')
        print(format_mean_table(list(runs.values()), args.eval_at))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(args={k: v for k, v in vars(args).items()},
                           results={str(k): v for k, v in runs.items()}),
                      f, indent=1)
    return runs if len(seeds) > 1 else runs[seeds[0]]

if __name__ == '__main__':
    main()
