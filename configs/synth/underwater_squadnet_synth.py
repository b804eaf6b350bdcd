# CPU twin of configs/underwater/: SynthScenes rendered underwater (random
# water type), detection on half of the scenes and enhancement (clean
# render as target) on the other half, SquadNet-small with T=2 groups.
_base_ = ['./hps_r18_ew_synth.py']
tasks = ('det', 'enhance')
label_groups = [['det'], ['enhance']]
model = dict(
    backbone=dict(_delete_=True, type='SquadNet', num_tasks=2, num_shared=2,
                  channels=16, depths=(2, 2, 2), shuffle=True,
                  out_indices=(2, )),
    neck=None,
    architecture=dict(_delete_=True, type='SquadSplit', num_shared=2),
    heads=dict(
        _delete_=True,
        det=dict(type='ATSSDetHead', num_classes=4, in_channels=[192],
                 feat_channels=64, strides=(8, ), anchor_sizes=(24, ),
                 topk=9),
        enhance=dict(type='EnhanceHead', in_channels=[192], channels=64)))
train_dataloader = dict(dataset=dict(tasks=tasks, underwater=True,
                                     label_groups=label_groups))
val_dataloader = dict(dataset=dict(tasks=tasks, underwater=True,
                                   label_groups=label_groups))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='VOCMetric', task='det', num_classes=4),
    dict(type='EnhanceMetric', task='enhance'),
]
test_evaluator = val_evaluator
