# CPU demo (about 10-20 s): Multi-MNIST construction on scikit-learn's bundled
# 8x8 digits (MultiDigitsDataset, no files), tasks 'left' and 'right', the
# LeNet-style SmallConvNet and GeMTL (p from -0.5 to 0.5 over the run).
# Twin of configs/slgrad/multi_mnist_*.py; digits_slgrad.py differs only in
# the balancer.
_base_ = ['../_base_/default_runtime.py']
meta_keys = ('img_path', 'img_shape', 'sample_idx', 'source',
             'labeled_tasks', 'task_names')
pipeline = [
    dict(type='PackMTLInputs', meta_keys=meta_keys,
         task_map=dict(left='cls', right='cls'))
]
main_task = 'left'
max_epochs = 10
batch_size = 64
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(
        type='MTLDataPreprocessor',
        mean=(33.3, ),
        std=(78.6, ),
        bgr_to_rgb=False,
        pad_size_divisor=1),
    backbone=dict(type='SmallConvNet', in_channels=1, channels=(10, 20),
                  fc_channels=50, input_size=(28, 28)),
    architecture=dict(type='HPS'),
    heads=dict(
        left=dict(type='ClsHead', in_channels=50, num_classes=10,
                  label_index=0),
        right=dict(type='ClsHead', in_channels=50, num_classes=10,
                   label_index=1)),
    # total_iters='auto': the run's length (1200 training pairs / 64 = 19
    # iterations per epoch x max_epochs), set by BalancerHook
    balancer=dict(type='GeMTL', p_start=-0.5, p_end=0.5,
                  total_iters='auto'))

# training pairs 0..1199 of the 1437-digit train split; 1200..1436 are the
# held-out pairs of digits_slgrad.py; the 360-digit test split evaluates
train_dataloader = dict(
    batch_size=batch_size,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='MultiDigitsDataset', split='train', seed=0,
                 sample_range=(0, 1200), pipeline=pipeline))
val_dataloader = dict(
    batch_size=128,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='MultiDigitsDataset', split='test', seed=1,
                 pipeline=pipeline, test_mode=True))
test_dataloader = val_dataloader
# the balancer's own loader: scoped type names ('mtlbox.X'), because
# check_config_types looks up types under model.balancer in the balancer
# registry
slgrad_val_dataloader = dict(
    batch_size=batch_size,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='mtlbox.MultiDigitsDataset', split='train', seed=0,
                 sample_range=(1200, 1437), pipeline=pipeline))
val_evaluator = [
    dict(type='ClsMetric', task='left', num_classes=10, label_index=0),
    dict(type='ClsMetric', task='right', num_classes=10, label_index=1),
]
test_evaluator = val_evaluator

optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=2e-3))
param_scheduler = []
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(logger=dict(interval=5))
