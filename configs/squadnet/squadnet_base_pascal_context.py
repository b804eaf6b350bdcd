# SquadNet-base on PASCAL-Context MT (512x512): semantic segmentation (21),
# human parts (7), saliency and surface normals; T=4 task groups + S=2
# shared groups; task t's head reads [group t, shared groups] = 3 x 128 ch.
_base_ = [
    '../_base_/models/squadnet_base.py',
    '../_base_/datasets/pascal_context_mt.py',
    '../_base_/schedules/adamw_epochs.py',
    '../_base_/default_runtime.py',
]
tasks = ('seg', 'parts', 'saliency', 'normal')
model = dict(
    backbone=dict(num_tasks=4, num_shared=2),
    architecture=dict(num_shared=2),
    heads=dict(
        _delete_=True,
        seg=dict(type='SegHead', in_channels=[384], num_classes=21,
                 channels=128),
        parts=dict(type='PartsHead', in_channels=[384], num_classes=7,
                   channels=128),
        saliency=dict(type='SaliencyHead', in_channels=[384], channels=128),
        normal=dict(type='NormalHead', in_channels=[384], channels=128)))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='SegMetric', task='seg', num_classes=21),
    dict(type='PartsMetric', task='parts', num_classes=7),
    dict(type='SaliencyMetric', task='saliency'),
    dict(type='NormalMetric', task='normal'),
]
test_evaluator = val_evaluator
max_epochs = 100
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=500),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, T_max=max_epochs,
         eta_min=1e-6, convert_to_iter_based=True),
]
