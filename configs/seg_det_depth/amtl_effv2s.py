# AMTL (Yun & Cho, ICCV 2023) flagship: the VMM model (EfficientNet-V2-S +
# TRIV2-BiFPN) trained for detection + segmentation on PASCAL VOC and depth
# on NYUv2, partially annotated (a VOC image has no depth, an NYU image no
# boxes or masks). Achievement-based weights against the single-task
# "potentials" (mAP, mIoU, delta1 of single-task VMM models; the values of
# the paper below, replace them with yours from configs/seg_det_depth/
# single_*_effv2s.py via tools/analysis/collect_baselines.py).
# Data layout: docs/datasets.md#voc and #nyu-depth-list.
_base_ = [
    '../_base_/models/vmm_effv2s.py',
    '../_base_/datasets/voc_nyu_partial.py',
    '../_base_/schedules/adamw_warmup_plateau.py',
    '../_base_/default_runtime.py',
]
potentials = dict(det=0.5729, seg=0.7791, depth=0.8930)
metric_keys = dict(det='det/mAP', seg='seg/mIoU', depth='depth/delta1')

model = dict(
    balancer=dict(
        type='AMTL',
        potentials=potentials,
        metric_keys=metric_keys,
        gamma=2.0,
        margin=0.05))

# per-task metrics + mtl/delta_m against the potentials + the AMTL
# model-selection score (geometric mean of the per-task metrics)
val_evaluator = dict(
    _delete_=True,
    type='MTLEvaluator',
    baselines={metric_keys[t]: v for t, v in potentials.items()},
    amtl_metrics=list(metric_keys.values()),
    metrics=[
        dict(type='VOCMetric', task='det', num_classes=20),
        dict(type='SegMetric', task='seg', num_classes=21),
        dict(type='DepthMetric', task='depth', min_depth=1e-3,
             max_depth=10.0),
    ])
test_evaluator = val_evaluator

custom_hooks = [dict(type='BalancerHook'), dict(type='AugmentationRNGHook'),
                {{_base_.ema_hook}}]
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2,
                    save_best='mtl/amtl_score', rule='greater'))
