# VOC + NYU partially annotated (AMTL): VOC images carry det + seg, NYU
# images carry depth only (docs/datasets.md#partial). Every batch holds a
# fixed share of each source (SourceRatioSampler).
voc_root = 'data/VOCdevkit/VOC2012/'
nyu_root = 'data/nyu_depth_v2/'
img_scale = (640, 640)  # (w, h)
# keep_ratio fits the long side in max(img_scale) in either orientation:
# a square pad of that side gives every image one size (h, w)
pad_size = (max(img_scale), max(img_scale))
# Each is one option of tools/train.py, test.py, print_config.py (README
# Usage), every entry built from it follows:
#   --cfg-options img_scale="(512,512)" voc_root=/data/VOC2012/
#                 nyu_root=/data/nyu/
meta_keys = ('img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
             'flip_direction', 'sample_idx', 'source', 'labeled_tasks')
batch_size = 8

load = [dict(type='LoadMTLImageFromFile'), dict(type='LoadMTLAnnotations')]
# per-source part: bring both sources to the common input size
common = [
    dict(type='MTLResize', scale=img_scale, keep_ratio=True),
    dict(type='MTLPad', size=pad_size),
]
# what each source runs (one variable: the single-task configs reuse it,
# mmengine cannot add two _base_ references)
source_pipeline = load + common
train_pipeline = [
    dict(type='MTLRandomFlip', prob=0.5),
    dict(type='MTLPhotometricDistortion'),
    dict(type='PackMTLInputs', meta_keys=meta_keys),
]
test_pipeline = [dict(type='PackMTLInputs', meta_keys=meta_keys)]

train_sources = [
    dict(type='VOCMTLDataset', data_root=voc_root, split='train',
         tasks=('det', 'seg'), source='VOC', pipeline=source_pipeline),
    dict(type='NYUDepthListDataset', data_root=nyu_root,
         list_file='nyudepthv2_train_files_with_gt.txt', img_root='sync',
         depth_root='sync', source='NYU', pipeline=source_pipeline),
]
val_sources = [
    dict(type='VOCMTLDataset', data_root=voc_root, split='val',
         tasks=('det', 'seg'), source='VOC', pipeline=source_pipeline),
    dict(type='NYUDepthListDataset', data_root=nyu_root,
         list_file='nyudepthv2_test_files_with_gt.txt',
         img_root='official_splits/test',
         depth_root='official_splits/test', source='NYU',
         pipeline=source_pipeline),
]

train_dataloader = dict(
    batch_size=batch_size,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='SourceRatioSampler', batch_size=batch_size,
                 ratios=dict(VOC=1, NYU=1)),
    dataset=dict(
        type='PartialMTLDataset',
        sources=train_sources,
        tasks=dict(VOC=['det', 'seg'], NYU=['depth']),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=batch_size,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='PartialMTLDataset',
        sources=val_sources,
        tasks=dict(VOC=['det', 'seg'], NYU=['depth']),
        pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader

val_evaluator = [
    dict(type='VOCMetric', task='det', num_classes=20),
    dict(type='SegMetric', task='seg', num_classes=21),
    dict(type='DepthMetric', task='depth', min_depth=1e-3, max_depth=10.0),
]
test_evaluator = val_evaluator
