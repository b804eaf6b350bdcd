# Demo (scripts/quickstart.sh): segmentation + depth + surface normals on
# SynthScenes (96x128, 640 training scenes), ResNet-18 (random init) + FPN,
# hard parameter sharing, equal weighting. About 3-4 minutes on 2 CPU cores.
_base_ = [
    '../_base_/models/hps_r18_fpn.py',
    '../_base_/datasets/synth_scenes.py',
    '../_base_/schedules/adamw_epochs.py',
    '../_base_/default_runtime.py',
]
max_epochs = 8
train_dataloader = dict(dataset=dict(num_samples=640))
train_cfg = dict(max_epochs=max_epochs, val_interval=4)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=40),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, T_max=max_epochs,
         eta_min=1e-5, convert_to_iter_based=True),
]
