# EUVP paired enhancement (docs/datasets.md#euvp): <subset>/trainA -> trainB.
dataset_type = 'EUVPPairedDataset'
data_root = 'data/EUVP/Paired/'
img_scale = (256, 256)  # (w, h), aspect not kept
# Each is one option of tools/train.py, test.py, print_config.py (README
# Usage), every entry built from it follows:
#   --cfg-options img_scale="(320,320)" data_root=/data/EUVP/Paired/

train_pipeline = [
    dict(type='LoadMTLImageFromFile'),
    dict(type='LoadMTLAnnotations'),
    dict(type='MTLResize', scale=img_scale),
    dict(type='MTLRandomFlip', prob=0.5),
    dict(type='PackMTLInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root,
                 subsets=('underwater_dark', 'underwater_imagenet',
                          'underwater_scenes'),
                 pipeline=train_pipeline))
