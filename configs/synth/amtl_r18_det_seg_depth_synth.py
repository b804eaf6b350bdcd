# CPU twin of configs/seg_det_depth/amtl_effv2s.py on SynthScenes: detection
# + segmentation on half of the scenes and depth on the other half (like
# VOC + NYU), ResNet-18 + TRIV2-BiFPN, ATSS detection head, AMTL. The
# potentials are rough single-task values of this twin (re-measure them with
# the protocol of docs/protocol.md for real comparisons).
_base_ = ['./hps_r18_ew_synth.py']
tasks = ('det', 'seg', 'depth')
label_groups = [['det', 'seg'], ['depth']]
potentials = dict(det=0.30, seg=0.66, depth=0.92)
metric_keys = dict(det='det/mAP', seg='seg/mIoU', depth='depth/delta1')
model = dict(
    neck=dict(_delete_=True, type='TRIV2BiFPN', in_channels=[128, 256, 512],
              out_channels=64, num_repeats=2),
    heads=dict(
        _delete_=True,
        det=dict(type='ATSSDetHead', num_classes=4, in_channels=[64] * 3,
                 feat_channels=64, strides=(8, 16, 32),
                 anchor_sizes=(16, 32, 64)),
        seg=dict(type='SegHead', in_channels=[64] * 3, num_classes=6),
        depth=dict(type='DepthHead', in_channels=[64] * 3)),
    balancer=dict(_delete_=True, type='AMTL', potentials=potentials,
                  metric_keys=metric_keys, gamma=2.0, margin=0.05))
train_dataloader = dict(
    dataset=dict(tasks=tasks, label_groups=label_groups))
val_dataloader = dict(dataset=dict(tasks=tasks, label_groups=label_groups))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True,
    type='MTLEvaluator',
    baselines={metric_keys[t]: v for t, v in potentials.items()},
    amtl_metrics=list(metric_keys.values()),
    metrics=[
        dict(type='VOCMetric', task='det', num_classes=4),
        dict(type='SegMetric', task='seg'),
        dict(type='DepthMetric', task='depth'),
    ])
test_evaluator = val_evaluator
train_cfg = dict(val_interval=2)
