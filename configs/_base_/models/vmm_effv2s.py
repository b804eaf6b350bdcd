# VMM model of AMTL (Yun & Cho, ICCV 2023): EfficientNet-V2-S features at
# strides 8/16/32 (64/160/256 ch) -> TRIV2-BiFPN (64 ch, x2) -> detection,
# segmentation and depth heads (VOC 20 classes + NYU depth). Random init;
# for ImageNet weights put a local torchvision state dict in
# backbone.init_cfg=dict(type='Pretrained', checkpoint='weights/effv2s.pth').
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(
        type='MTLDataPreprocessor',
        mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375),
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(type='EfficientNetV2', arch='s', out_indices=(1, 2, 3)),
    neck=dict(
        type='TRIV2BiFPN',
        in_channels=[64, 160, 256],
        out_channels=64,
        num_repeats=2),
    architecture=dict(type='HPS'),
    heads=dict(
        det=dict(
            type='ATSSDetHead',
            num_classes=20,
            in_channels=[64, 64, 64],
            feat_channels=64,
            num_convs=1,
            block='mbconv',
            share_levels=False,
            strides=(8, 16, 32),
            anchor_sizes=(32, 64, 128),
            ratios=(1.0, 2.0, 0.5),
            variances=(0.1, 0.2),
            topk=27,
            prior_prob=0.01,
            loss_cls=dict(type='IoUAwareFocalLoss', alpha=0.25, gamma=2.0),
            loss_bbox=dict(type='CIoULoss', loss_weight=10.0),
            score_thr=0.01,
            nms_pre=4000,
            nms_iou=0.5,
            max_per_class=400,
            max_per_img=200),
        # dense heads: levels upsampled to stride 8 and concatenated (192),
        # DSConv 3x3 -> 64 (LightDecoder), MBConv -> C (predictor='mbconv')
        seg=dict(
            type='SegHead',
            in_channels=[64, 64, 64],
            num_classes=21,
            decoder=dict(type='LightDecoder', channels=64),
            predictor='mbconv'),
        depth=dict(
            type='DepthHead',
            in_channels=[64, 64, 64],
            decoder=dict(type='LightDecoder', channels=64),
            predictor='mbconv')),
    balancer=dict(type='EW'))
