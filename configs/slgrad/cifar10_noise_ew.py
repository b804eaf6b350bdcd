# SLGrad CIFAR-10 with label noise: ten one-vs-rest tasks named by the
# classes; main task 'airplane' (30% of its training labels flipped), the
# other nine are auxiliaries (docs/datasets.md#cifar10-mt). ResNet-18 shared
# encoder, one binary ClsHead per class (num_classes=2, label_index = class
# index). Images 0..44999 of the training split train, 45000..49999 (clean)
# are SLGrad's held-out batches; the test split evaluates. Uniform weights
# (EW); the other files of the family change model.balancer.
_base_ = [
    '../_base_/datasets/cifar10_mt.py',
    '../_base_/default_runtime.py',
]
main_task = 'airplane'
_bin = dict(type='ClsHead', in_channels=512, num_classes=2)
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(
        type='MTLDataPreprocessor',
        mean=(125.31, 122.95, 113.87),
        std=(62.99, 62.09, 66.70),
        bgr_to_rgb=True,
        pad_size_divisor=1),
    backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
    architecture=dict(type='HPS'),
    heads=dict(
        airplane=dict(_bin, label_index=0),
        automobile=dict(_bin, label_index=1),
        bird=dict(_bin, label_index=2),
        cat=dict(_bin, label_index=3),
        deer=dict(_bin, label_index=4),
        dog=dict(_bin, label_index=5),
        frog=dict(_bin, label_index=6),
        horse=dict(_bin, label_index=7),
        ship=dict(_bin, label_index=8),
        truck=dict(_bin, label_index=9)),
    balancer=dict(type='EW'))

train_dataloader = dict(
    dataset=dict(sample_range=(0, 45000), noise_p=0.3, noisy_tasks='main',
                 main_task='airplane'))
_metric = dict(type='ClsMetric', num_classes=2)
val_evaluator = [
    dict(_metric, task='airplane', label_index=0),
    dict(_metric, task='automobile', label_index=1),
    dict(_metric, task='bird', label_index=2),
    dict(_metric, task='cat', label_index=3),
    dict(_metric, task='deer', label_index=4),
    dict(_metric, task='dog', label_index=5),
    dict(_metric, task='frog', label_index=6),
    dict(_metric, task='horse', label_index=7),
    dict(_metric, task='ship', label_index=8),
    dict(_metric, task='truck', label_index=9),
]
test_evaluator = val_evaluator

# (scoped type names 'mtlbox.X' under model.balancer: check_config_types
# looks types up there in the balancer registry)
slgrad_val_dataloader = dict(
    batch_size=128,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='mtlbox.CIFAR10MTDataset',
        data_root='data/cifar10/',
        split='train',
        sample_range=(45000, 50000), noise_p=0.0,
        pipeline=[
            dict(type='PackMTLInputs',
                 meta_keys=('img_path', 'img_shape', 'sample_idx', 'source',
                            'labeled_tasks', 'task_names'),
                 task_map={{_base_.task_map}})
        ]))

max_epochs = 50
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, T_max=max_epochs,
         convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
