# SLGrad Multi-MNIST: main task 'left' (left digit), auxiliary 'right'
# (docs/datasets.md#multi-mnist). LeNet-style shared encoder
# (SmallConvNet: conv5-pool-relu x2, linear 320 -> 50) on the 28x28 grey
# image, one 10-class ClsHead per digit (label_index 0 / 1 of gt_label).
# Pairs 0..49999 of the training split train, 50000..59999 are the held-out
# batches of SLGrad; the test split evaluates. Uniform weights (EW); the
# other files of the family change model.balancer.
_base_ = [
    '../_base_/datasets/multi_mnist.py',
    '../_base_/default_runtime.py',
]
main_task = 'left'
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
    balancer=dict(type='EW'))

train_dataloader = dict(dataset=dict(sample_range=(0, 50000)))
val_evaluator = [
    dict(type='ClsMetric', task='left', num_classes=10, label_index=0),
    dict(type='ClsMetric', task='right', num_classes=10, label_index=1),
]
test_evaluator = val_evaluator

# (scoped type names 'mtlbox.X' under model.balancer: check_config_types
# looks types up there in the balancer registry)
slgrad_val_dataloader = dict(
    batch_size=256,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='mtlbox.MultiMNISTDataset',
        data_root='data/mnist/',
        split='train',
        seed=0, sample_range=(50000, 60000),
        pipeline=[
            dict(type='PackMTLInputs',
                 meta_keys=('img_path', 'img_shape', 'sample_idx', 'source',
                            'labeled_tasks', 'task_names'),
                 task_map=dict(left='cls', right='cls'))
        ]))

max_epochs = 50
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = []
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
