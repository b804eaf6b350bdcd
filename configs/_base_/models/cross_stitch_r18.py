# Cross-stitch (Misra et al., CVPR 2016): one ResNet-18 column per task
# (strides 8/16/32), cross-stitch units after the stem and stages 0-2 (alpha
# 0.8 self / 0.05 others), a per-task FPN. The model's backbone only hands
# the image on (ImageInput); the columns live in the architecture.
# Give the alphas their 100x learning rate in the optim_wrapper:
#   optim_wrapper = dict(paramwise_cfg=dict(
#       custom_keys={'stitch_alphas': dict(lr_mult=100, decay_mult=0)}))
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
        type='CrossStitch',
        backbone=dict(type='ResNet', depth=18, out_indices=(1, 2, 3)),
        neck=dict(type='FPN', in_channels=[128, 256, 512], out_channels=64),
        alpha_self=0.8,
        alpha_other=0.05),
    heads=dict(
        seg=dict(type='SegHead', in_channels=[64] * 3, num_classes=6),
        depth=dict(type='DepthHead', in_channels=[64] * 3),
        normal=dict(type='NormalHead', in_channels=[64] * 3)),
    balancer=dict(type='EW'))
