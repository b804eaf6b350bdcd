# Synthetic underwater images from NYUv2 RGB-D (docs/datasets.md#synthetic-
# underwater): every sample has depth and an enhancement target (the clean
# image); water type drawn per sample.
data_root = 'data/nyuv2/'

load = [dict(type='LoadMTLImageFromFile'), dict(type='LoadMTLAnnotations')]
train_pipeline = [
    dict(type='MTLRandomFlip', prob=0.5),
    dict(type='PackMTLInputs'),
]
test_pipeline = [dict(type='PackMTLInputs')]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='SynthUnderwaterRGBD',
        source=dict(type='NYUv2MTANDataset', data_root=data_root,
                    split='train', tasks=('seg', 'depth', 'normal'),
                    pipeline=load),
        keep_tasks=('depth', ), depth_scale=1.0, jitter=0.2, seed=0,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='SynthUnderwaterRGBD',
        source=dict(type='NYUv2MTANDataset', data_root=data_root,
                    split='val', tasks=('seg', 'depth', 'normal'),
                    pipeline=load),
        keep_tasks=('depth', ), seed=1, pipeline=test_pipeline,
        test_mode=True))
test_dataloader = val_dataloader

val_evaluator = [dict(type='DepthMetric', task='depth')]
test_evaluator = val_evaluator
