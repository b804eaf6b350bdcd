# SLGrad on NYUv2 (mtan layout, 288x384): main task semantic segmentation
# ('seg', 13 classes), auxiliary tasks depth and surface normals. DeepLab
# ResNet-50 (dilated, output stride 8) with a DeepLab-v3 ASPP decoder per
# task (configs/_base_/models/deeplab_r50.py). Each training sample's
# per-task loss is weighted by the alignment of its gradient with the
# segmentation gradient on held-out batches. The mtan layout has no
# separate validation split, so the held-out batches come from its 'val'
# (= test) images with training augmentation: this uses test images for
# the weighting, as the public setting does; hold out part of 'train'
# (e.g. a list of your own) for a clean protocol.
# (scoped dataset type 'mtlbox.X' under model.balancer: check_config_types
# looks types up there in the balancer registry)
_base_ = [
    '../_base_/models/deeplab_r50.py',
    '../_base_/datasets/nyuv2_mtan.py',
    '../_base_/default_runtime.py',
]
model = dict(
    balancer=dict(
        type='SLGrad',
        main_task='seg',
        val_dataloader=dict(
            batch_size=8,
            num_workers=2,
            sampler=dict(type='DefaultSampler', shuffle=True),
            dataset=dict(
                type='mtlbox.NYUv2MTANDataset',
                data_root={{_base_.data_root}},
                split='val',
                tasks=('seg', ),
                pipeline={{_base_.train_pipeline}}))))

# LibMTL NYUv2 schedule: Adam lr 1e-4, weight decay 1e-5, 200 epochs, step
# decay x0.5 every 100 epochs, batch 8.
max_epochs = 200
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, weight_decay=1e-5))
param_scheduler = [
    dict(type='StepLR', by_epoch=True, step_size=100, gamma=0.5)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
