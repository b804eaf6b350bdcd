# The MTAN SegNet model and schedule shared by the NYUv2 and Cityscapes
# MTAN-protocol recipes: SegNet with MTAN task attention (docs/models.md),
# the reference's heads, the images fed as RGB in [0, 1]; Adam lr 1e-4 (no
# weight decay), StepLR(100, 0.5), 200 epochs, evaluation every epoch.
_base_ = ['../../_base_/default_runtime.py']
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(
        type='MTLDataPreprocessor',
        mean=(0.0, 0.0, 0.0),
        std=(255.0, 255.0, 255.0),
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(type='SegNet', out='all'),
    architecture=dict(type='SegNetMTAN'),
    heads=dict(
        seg=dict(type='MTANSegHead', num_classes=13),
        depth=dict(type='MTANDepthHead'),
        normal=dict(type='MTANNormalHead')),
    balancer=dict(type='EW'))

optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='Adam', lr=1e-4))
param_scheduler = [
    dict(type='StepLR', step_size=100, gamma=0.5, by_epoch=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='MTLCheckpointHook', interval=10, max_keep_ckpts=2))
