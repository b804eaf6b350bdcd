# Underwater detection + enhancement, partially annotated (SquadNet's
# benchmark, defined from public sets; docs/datasets.md#partial): DUO images
# carry det, UIEB pairs carry enhance; half of every batch from each.
duo_root = 'data/DUO/'
uieb_root = 'data/UIEB/'
img_scale = (512, 512)  # (w, h)
# keep_ratio fits the long side in max(img_scale) in either orientation:
# a square pad of that side gives every image one size (h, w)
pad_size = (max(img_scale), max(img_scale))
batch_size = 8
# Each is one option of tools/train.py, test.py, print_config.py (README
# Usage), every entry built from it follows:
#   --cfg-options img_scale="(640,640)" duo_root=/data/DUO/
#                 uieb_root=/data/UIEB/

load = [dict(type='LoadMTLImageFromFile'), dict(type='LoadMTLAnnotations')]
common = [
    dict(type='MTLResize', scale=img_scale, keep_ratio=True),
    dict(type='MTLPad', size=pad_size),
]
train_pipeline = [
    dict(type='MTLRandomFlip', prob=0.5),
    dict(type='PackMTLInputs'),
]
test_pipeline = [dict(type='PackMTLInputs')]

train_dataloader = dict(
    batch_size=batch_size,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='SourceRatioSampler', batch_size=batch_size,
                 ratios=dict(DUO=1, UIEB=1)),
    dataset=dict(
        type='PartialMTLDataset',
        sources=[
            dict(type='UnderwaterCocoDataset', data_root=duo_root,
                 source='DUO', ann_file='annotations/instances_train.json',
                 img_dir='images/train', pipeline=load + common),
            dict(type='UIEBDataset', data_root=uieb_root, source='UIEB',
                 split_file='train.txt', pipeline=load + common),
        ],
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=batch_size,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='PartialMTLDataset',
        sources=[
            dict(type='UnderwaterCocoDataset', data_root=duo_root,
                 source='DUO', ann_file='annotations/instances_test.json',
                 img_dir='images/test', pipeline=load + common),
            dict(type='UIEBDataset', data_root=uieb_root, source='UIEB',
                 split_file='test.txt', pipeline=load + common),
        ],
        pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader

val_evaluator = [dict(type='COCOMetric', task='det', num_classes=4)]
test_evaluator = val_evaluator
