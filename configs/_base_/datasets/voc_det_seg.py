# PASCAL VOC 2012 detection + segmentation (layout: docs/datasets.md#voc).
dataset_type = 'VOCMTLDataset'
data_root = 'data/VOCdevkit/VOC2012/'
img_scale = (640, 640)  # (w, h); aspect kept, padded (AMTL's VMM input)
# keep_ratio fits the long side in max(img_scale) in either orientation:
# a square pad of that side gives every image one size (h, w)
pad_size = (max(img_scale), max(img_scale))
crop_size = pad_size  # (h, w) training crop
# Each is one option of tools/train.py, test.py, print_config.py (README
# Usage), every entry built from it follows:
#   --cfg-options img_scale="(512,512)" data_root=/data/VOC2012/
meta_keys = ('img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
             'flip_direction', 'sample_idx', 'source', 'labeled_tasks')

train_pipeline = [
    dict(type='LoadMTLImageFromFile'),
    dict(type='LoadMTLAnnotations'),
    dict(type='MTLResize', scale=img_scale, keep_ratio=True,
         ratio_range=(0.5, 1.5)),
    dict(type='MTLRandomCrop', crop_size=crop_size),
    dict(type='MTLRandomFlip', prob=0.5),
    dict(type='MTLPhotometricDistortion'),
    dict(type='MTLPad', size=pad_size),
    dict(type='PackMTLInputs', meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='LoadMTLImageFromFile'),
    dict(type='LoadMTLAnnotations'),
    dict(type='MTLResize', scale=img_scale, keep_ratio=True),
    dict(type='MTLPad', size=pad_size),
    dict(type='PackMTLInputs', meta_keys=meta_keys),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 tasks=('det', 'seg'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 tasks=('det', 'seg'), pipeline=test_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader

val_evaluator = [
    dict(type='VOCMetric', task='det', num_classes=20),
    dict(type='SegMetric', task='seg', num_classes=21),
]
test_evaluator = val_evaluator
