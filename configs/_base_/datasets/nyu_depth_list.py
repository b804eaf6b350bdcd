# NYU depth from a BTS-style list file (docs/datasets.md#nyu-depth-list):
# uint16 PNG depth in millimetres.
dataset_type = 'NYUDepthListDataset'
data_root = 'data/nyu_depth_v2/'
crop_size = (416, 544)  # (h, w) training crop; tests run at full size
# Each is one option of tools/train.py, test.py, print_config.py (README
# Usage), every entry built from it follows:
#   --cfg-options crop_size="(352,704)" data_root=/data/nyu_depth_v2/

train_pipeline = [
    dict(type='LoadMTLImageFromFile'),
    dict(type='LoadMTLAnnotations'),
    dict(type='MTLRandomCrop', crop_size=crop_size),
    dict(type='MTLRandomFlip', prob=0.5),
    dict(type='MTLPhotometricDistortion'),
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
    dataset=dict(type=dataset_type, data_root=data_root,
                 list_file='nyudepthv2_train_files_with_gt.txt',
                 img_root='sync', depth_root='sync', depth_scale=1000.0,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 list_file='nyudepthv2_test_files_with_gt.txt',
                 img_root='official_splits/test',
                 depth_root='official_splits/test', depth_scale=1000.0,
                 pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader

val_evaluator = [dict(type='DepthMetric', task='depth', min_depth=1e-3,
                      max_depth=10.0)]
test_evaluator = val_evaluator
