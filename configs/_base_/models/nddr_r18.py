# NDDR-CNN (Gao et al., CVPR 2019): one ResNet-18 column per task, NDDR
# layers (1x1 conv init 0.8 I / 0.05 I, BN momentum 0.05) after the stem and
# stages 0-2, a per-task FPN. Learning-rate multiplier of the NDDR layers:
#   optim_wrapper = dict(paramwise_cfg=dict(
#       custom_keys={'nddr_layers': dict(lr_mult=100)}))
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(
        type='MTLDataPreprocessor',
        mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375),
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(type='ImageInput'),
    architecture=dict(
        type='NDDR',
        backbone=dict(type='ResNet', depth=18, out_indices=(1, 2, 3)),
        neck=dict(type='FPN', in_channels=[128, 256, 512], out_channels=64),
        init_self=0.8,
        init_other=0.05,
        bn_momentum=0.05),
    heads=dict(
        seg=dict(type='SegHead', in_channels=[64] * 3, num_classes=6),
        depth=dict(type='DepthHead', in_channels=[64] * 3),
        normal=dict(type='NormalHead', in_channels=[64] * 3)),
    balancer=dict(type='EW'))
