# Underwater detection + enhancement, partially annotated (SquadNet's
# benchmark, defined from public sets; docs/datasets.md#partial): DUO images
# carry det, UIEB pairs carry enhance; half of every batch from each.
duo_root = 'data/DUO/'
uieb_root = 'data/UIEB/'
batch_size = 8

load = [dict(type='LoadMTLImageFromFile'), dict(type='LoadMTLAnnotations')]
common = [
    dict(type='MTLResize', scale=(512, 512), keep_ratio=True),
    dict(type='MTLPad', size=(512, 512)),
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
