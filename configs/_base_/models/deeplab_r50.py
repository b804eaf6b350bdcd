# DeepLab ResNet-50 MTL model (LibMTL / AMTL NYU / GeMTL): ResNet-50 dilated
# to output stride 8 (2048 ch) shared by all tasks; each task decoder is
# DeepLab-v3's head: its own ASPP (rates 12/24/36 + image pooling, 256 ch),
# 3x3 conv-BN-ReLU, 1x1, bilinear to the input. NYUv2: 13 classes, depth,
# normals. Random init; ImageNet weights from a local file:
#   backbone.init_cfg=dict(type='Pretrained', checkpoint='weights/r50.pth')
# Variant with one shared ASPP: neck=dict(type='ASPP', in_channels=2048,
# channels=256, dilations=(12, 24, 36)) and heads with in_channels=[256].
_aspp = dict(type='ASPPDecoder', channels=256, rates=(12, 24, 36))
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(
        type='MTLDataPreprocessor',
        mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375),
        bgr_to_rgb=True,
        pad_size_divisor=8),
    backbone=dict(
        type='ResNet',
        depth=50,
        out_indices=(3, ),
        dilations=(False, True, True)),
    architecture=dict(type='HPS'),
    heads=dict(
        seg=dict(
            type='SegHead',
            in_channels=[2048],
            num_classes=13,
            channels=256,
            decoder=_aspp),
        depth=dict(
            type='DepthHead', in_channels=[2048], channels=256,
            decoder=_aspp),
        normal=dict(
            type='NormalHead', in_channels=[2048], channels=256,
            decoder=_aspp)),
    balancer=dict(type='EW'))
