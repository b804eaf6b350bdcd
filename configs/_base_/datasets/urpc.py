# URPC underwater detection, VOC XML (docs/datasets.md#urpc).
dataset_type = 'URPCDataset'
data_root = 'data/URPC2020/'
img_scale = (640, 640)  # (w, h)
# keep_ratio fits the long side in max(img_scale) in either orientation:
# a square pad of that side gives every image one size (h, w)
pad_size = (max(img_scale), max(img_scale))
# Each is one option of tools/train.py, test.py, print_config.py (README
# Usage), every entry built from it follows:
#   --cfg-options img_scale="(512,512)" data_root=/data/URPC2020/

train_pipeline = [
    dict(type='LoadMTLImageFromFile'),
    dict(type='LoadMTLAnnotations'),
    dict(type='MTLResize', scale=img_scale, keep_ratio=True),
    dict(type='MTLRandomFlip', prob=0.5),
    dict(type='MTLPhotometricDistortion'),
    dict(type='MTLPad', size=pad_size),
    dict(type='PackMTLInputs'),
]
test_pipeline = [
    dict(type='LoadMTLImageFromFile'),
    dict(type='LoadMTLAnnotations'),
    dict(type='MTLResize', scale=img_scale, keep_ratio=True),
    dict(type='MTLPad', size=pad_size),
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
