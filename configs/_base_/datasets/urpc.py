# URPC underwater detection, VOC XML (docs/datasets.md#urpc).
dataset_type = 'URPCDataset'
data_root = 'data/URPC2020/'
img_scale = (640, 640)

train_pipeline = [
    dict(type='LoadMTLImageFromFile'),
    dict(type='LoadMTLAnnotations'),
    dict(type='MTLResize', scale=img_scale, keep_ratio=True),
    dict(type='MTLRandomFlip', prob=0.5),
    dict(type='MTLPhotometricDistortion'),
    dict(type='MTLPad', size=(640, 640)),
    dict(type='PackMTLInputs'),
]
test_pipeline = [
    dict(type='LoadMTLImageFromFile'),
    dict(type='LoadMTLAnnotations'),
    dict(type='MTLResize', scale=img_scale, keep_ratio=True),
    dict(type='MTLPad', size=(640, 640)),
    dict(type='PackMTLInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root,
                 split_file='ImageSets/Main/train.txt',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 split_file='ImageSets/Main/val.txt', pipeline=test_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader

val_evaluator = [dict(type='VOCMetric', task='det', num_classes=4)]
test_evaluator = val_evaluator
