# Office-Home, domains as tasks (LibMTL setting): the four domains Art,
# Clipart, Product, Real_World are the tasks, each a 65-class classification
# of its own images (labeled_tasks=[<domain>], docs/datasets.md#office).
# ResNet-18 shared by all tasks (hard sharing), one ClsHead (linear layer on
# the pooled 512-d feature) per domain, equal weights. LibMTL: Adam lr 1e-4,
# weight decay 1e-5, batch 64, 100 epochs, 224x224, ImageNet-pretrained
# ResNet-18 (a local file, no download):
#   model.backbone.init_cfg=dict(type='Pretrained',
#                                checkpoint='weights/resnet18.pth')
# The other balancers of this folder inherit this file and change only
# model.balancer.
_base_ = [
    '../_base_/datasets/office_home.py',
    '../_base_/default_runtime.py',
]
num_classes = 65
_head = dict(type='ClsHead', in_channels=512, num_classes=num_classes)
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(
        type='MTLDataPreprocessor',
        mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375),
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
    architecture=dict(type='HPS'),
    heads=dict(Art=_head, Clipart=_head, Product=_head, Real_World=_head),
    balancer=dict(type='EW'))

val_evaluator = [
    dict(type='ClsMetric', task='Art', num_classes=num_classes),
    dict(type='ClsMetric', task='Clipart', num_classes=num_classes),
    dict(type='ClsMetric', task='Product', num_classes=num_classes),
    dict(type='ClsMetric', task='Real_World', num_classes=num_classes),
]
test_evaluator = val_evaluator

max_epochs = 100
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, weight_decay=1e-5))
param_scheduler = []
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
