# Cityscapes in the MTAN protocol (the Nash-MTL / FAMO tables): MTAN SegNet
# with two tasks (41,206,984 parameters), MTAN's .npy arrays at 128x256
# (7-class segmentation + inverse depth), Adam lr 1e-4, StepLR(100, 0.5),
# 200 epochs, batch 8, the test split ("val" folder, 500 images) evaluated
# every epoch; report the mean of the last 10 epochs:
#   tools/analysis/compare_runs.py NAME=WORK_DIR --last-k 10 \
#       --baselines published:cityscapes_segnet_mtan
# mtl/delta_m_paper is the papers' Delta_m (lower is better). See
# docs/protocol.md.
_base_ = ['../../_base_/default_runtime.py']
dataset_type = 'CityscapesMTANDataset'
data_root = 'data/cityscapes/'
tasks = ('seg', 'depth')

train_pipeline = [
    dict(type='LoadMTLImageFromFile'),
    dict(type='LoadMTLAnnotations'),
    # FAMO / Nash-MTL augmentation: zoom 1 / 1.2 / 1.5 (depth / zoom), flip
    dict(type='MTLRandomScaleCrop', scales=(1.0, 1.2, 1.5)),
    dict(type='MTLRandomFlip', prob=0.5),
    dict(type='PackMTLInputs'),
]
test_pipeline = [
    dict(type='LoadMTLImageFromFile'),
    dict(type='LoadMTLAnnotations'),
    dict(type='PackMTLInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 tasks=tasks, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 tasks=tasks, pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='MTLEvaluator',
    metrics=[dict(type='SegMetric', task='seg', num_classes=7),
             dict(type='DepthMetric', task='depth')],
    baselines='published:cityscapes_segnet_mtan')
test_evaluator = val_evaluator

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
        seg=dict(type='MTANSegHead', num_classes=7),
        depth=dict(type='MTANDepthHead')),
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
