# Multi-task CIFAR-10 (docs/datasets.md#cifar10-mt): 10 one-vs-rest tasks
# named by the classes (labeled_tasks = class names), gt_label = 10 binary
# labels (task t: ClsHead(num_classes=2, label_index=t)), label noise on the
# training split.
dataset_type = 'CIFAR10MTDataset'
data_root = 'data/cifar10/'
meta_keys = ('img_path', 'img_shape', 'flip', 'sample_idx', 'source',
             'labeled_tasks', 'task_names')
classes = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog',
           'horse', 'ship', 'truck')
task_map = {
    'airplane': 'cls', 'automobile': 'cls', 'bird': 'cls', 'cat': 'cls',
    'deer': 'cls', 'dog': 'cls', 'frog': 'cls', 'horse': 'cls',
    'ship': 'cls', 'truck': 'cls'
}

train_pipeline = [
    dict(type='MTLRandomFlip', prob=0.5),
    dict(
        type='PackMTLInputs', meta_keys=meta_keys, task_map=task_map),
]
test_pipeline = [
    dict(type='PackMTLInputs', meta_keys=meta_keys, task_map=task_map)
]

train_dataloader = dict(
    batch_size=128,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 noise_p=0.3, noise_mode='uniform', noisy_tasks='main',
                 main_task=0, seed=0, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=256,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='test',
                 pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader
