# Multi-MNIST from the MNIST idx files (docs/datasets.md#multi-mnist): one
# 28x28 grey image, gt_label = [left digit, right digit], tasks 'left' and
# 'right' (labeled_tasks=['left', 'right'], ClsHead(label_index=0 / 1)).
# Use a one-channel preprocessor and backbone (SmallConvNet(in_channels=1)):
# data_preprocessor=dict(mean=(33.3, ), std=(78.6, ), bgr_to_rgb=False).
dataset_type = 'MultiMNISTDataset'
data_root = 'data/mnist/'
meta_keys = ('img_path', 'img_shape', 'sample_idx', 'source',
             'labeled_tasks', 'task_names')
task_map = dict(left='cls', right='cls')
pipeline = [
    dict(type='PackMTLInputs', meta_keys=meta_keys, task_map=task_map)
]

train_dataloader = dict(
    batch_size=256,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 seed=0, pipeline=pipeline))
val_dataloader = dict(
    batch_size=256,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='test',
                 seed=1, pipeline=pipeline, test_mode=True))
test_dataloader = val_dataloader
