# DUO underwater detection, COCO JSON (docs/datasets.md#underwater-coco).
dataset_type = 'UnderwaterCocoDataset'
data_root = 'data/DUO/'
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
    dataset=dict(type=dataset_type, data_root=data_root, source='DUO',
                 ann_file='annotations/instances_train.json',
                 img_dir='images/train', filter_empty=True,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, source='DUO',
                 ann_file='annotations/instances_test.json',
                 img_dir='images/test', pipeline=test_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader

val_evaluator = [dict(type='COCOMetric', task='det', num_classes=4)]
test_evaluator = val_evaluator
