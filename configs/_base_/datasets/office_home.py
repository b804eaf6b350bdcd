# Office-Home, domains as tasks (docs/datasets.md#office). Each sample is
# labelled for its own domain: labeled_tasks=[<domain>], gt_label=[class],
# meta task_name = the domain; the dataset maps every domain to the 'cls' field.
dataset_type = 'OfficeHomeDataset'
data_root = 'data/office-home/'
img_scale = (224, 224)  # (w, h), aspect not kept
# Each is one option of tools/train.py, test.py, print_config.py (README
# Usage), every entry built from it follows:
#   --cfg-options img_scale="(256,256)" data_root=/data/office-home/
meta_keys = ('img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
             'sample_idx', 'source', 'labeled_tasks', 'task_name',
             'task_names')

train_pipeline = [
    dict(type='LoadMTLImageFromFile'),
    dict(type='MTLResize', scale=img_scale),
    dict(type='MTLRandomFlip', prob=0.5),
    dict(type='PackMTLInputs', meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='LoadMTLImageFromFile'),
    dict(type='MTLResize', scale=img_scale),
    dict(type='PackMTLInputs', meta_keys=meta_keys),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 pipeline=test_pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='test',
                 pipeline=test_pipeline, test_mode=True))
