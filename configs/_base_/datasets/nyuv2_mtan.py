# NYUv2, mtan/LibMTL .npy layout (docs/datasets.md#nyuv2-mtan): 288x384,
# 13-class segmentation, depth, surface normals.
dataset_type = 'NYUv2MTANDataset'
data_root = 'data/nyuv2/'
tasks = ('seg', 'depth', 'normal')

train_pipeline = [
    dict(type='LoadMTLImageFromFile'),
    dict(type='LoadMTLAnnotations'),
    # mtan / LibMTL augmentation: zoom in by 1, 1.2 or 1.5, depth / zoom
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

val_evaluator = [
    dict(type='SegMetric', task='seg', num_classes=13),
    dict(type='DepthMetric', task='depth'),
    dict(type='NormalMetric', task='normal'),
]
test_evaluator = val_evaluator
