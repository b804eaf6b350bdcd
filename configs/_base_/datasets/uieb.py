# UIEB paired enhancement (docs/datasets.md#uieb): raw-890 -> reference-890.
# No enhancement metric is registered yet (enhance/psnr is planned), so no
# evaluator is set here.
dataset_type = 'UIEBDataset'
data_root = 'data/UIEB/'
img_scale = (256, 256)  # (w, h), aspect not kept
# Each is one option of tools/train.py, test.py, print_config.py (README
# Usage), every entry built from it follows:
#   --cfg-options img_scale="(320,320)" data_root=/data/UIEB/

train_pipeline = [
    dict(type='LoadMTLImageFromFile'),
    dict(type='LoadMTLAnnotations'),
    dict(type='MTLResize', scale=img_scale),
    dict(type='MTLRandomFlip', prob=0.5),
    dict(type='PackMTLInputs'),
]
test_pipeline = [
    dict(type='LoadMTLImageFromFile'),
    dict(type='LoadMTLAnnotations'),
    dict(type='MTLResize', scale=img_scale),
    dict(type='PackMTLInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root,
                 split_file='train.txt', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root,
                 split_file='test.txt', pipeline=test_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader
