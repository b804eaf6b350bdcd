# PASCAL-Context multi-task (docs/datasets.md#pascal-context): semseg,
# human parts, saliency, normals, edges at 512x512.
dataset_type = 'PascalContextMTDataset'
data_root = 'data/PASCAL_MT/'
tasks = ('seg', 'parts', 'saliency', 'normal', 'edge')
img_scale = (512, 512)  # (w, h) training rescale, crop and pad
# test images (at most 500 px) are padded, not resized: a separate size
test_pad_size = (512, 512)  # (h, w)
# Each is one option of tools/train.py, test.py, print_config.py (README
# Usage), every entry built from it follows:
#   --cfg-options img_scale="(384,384)" data_root=/data/PASCAL_MT/

train_pipeline = [
    dict(type='LoadMTLImageFromFile'),
    dict(type='LoadMTLAnnotations'),
    dict(type='MTLResize', scale=img_scale, keep_ratio=True,
         ratio_range=(0.75, 1.25)),
    dict(type='MTLRandomCrop', crop_size=img_scale[::-1]),
    dict(type='MTLRandomFlip', prob=0.5),
    dict(type='MTLPhotometricDistortion'),
    dict(type='MTLPad', size=img_scale[::-1]),
    dict(type='PackMTLInputs'),
]
test_pipeline = [
    dict(type='LoadMTLImageFromFile'),
    dict(type='LoadMTLAnnotations'),
    dict(type='MTLPad', size=test_pad_size),
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
    dict(type='SegMetric', task='seg', num_classes=21),
    dict(type='PartsMetric', task='parts', num_classes=7),
    dict(type='NormalMetric', task='normal'),
]
test_evaluator = val_evaluator
