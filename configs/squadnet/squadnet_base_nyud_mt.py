# SquadNet-base (expert squads; Chen & Er) on NYUD-MT (ASTMT layout, 40
# classes): semantic segmentation + depth, T=2 task groups + S=2 shared
# groups. Baselines in this folder: HPS, MTAN, Cross-stitch (ResNet-18) and
# the NoSquadNet ablation, all with the same data and schedule.
_base_ = [
    '../_base_/models/squadnet_base.py',
    '../_base_/datasets/nyud_mt.py',
    '../_base_/schedules/adamw_epochs.py',
    '../_base_/default_runtime.py',
]
tasks = ('seg', 'depth')
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='SegMetric', task='seg', num_classes=40),
    dict(type='DepthMetric', task='depth'),
]
test_evaluator = val_evaluator
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4))
max_epochs = 100
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=500),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, T_max=max_epochs,
         eta_min=1e-6, convert_to_iter_based=True),
]
