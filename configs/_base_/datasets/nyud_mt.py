# NYUD-MT (ASTMT layout, docs/datasets.md#nyud-mt): 480x640, 40-class
# segmentation, depth, normals, edges.
dataset_type = 'NYUDMTDataset'
data_root = 'data/NYUD_MT/'
tasks = ('seg', 'depth', 'normal', 'edge')
img_scale = (640, 480)  # (w, h) training rescale; tests run at 480x640
crop_size = (448, 576)  # (h, w) training crop
# Each is one option of tools/train.py, test.py, print_config.py (README
# Usage), every entry built from it follows:
#   --cfg-options img_scale="(512,384)" data_root=/data/NYUD_MT/

train_pipeline = [
    dict(type='LoadMTLImageFromFile'),
    dict(type='LoadMTLAnnotations'),
    dict(type='MTLResize', scale=img_scale, ratio_range=(0.75, 1.25)),
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

# no edge metric in mtlbox.evaluation yet: edges are trained, not scored
val_evaluator = [
    dict(type='SegMetric', task='seg', num_classes=40),
    dict(type='DepthMetric', task='depth'),
    dict(type='NormalMetric', task='normal'),
]
test_evaluator = val_evaluator
