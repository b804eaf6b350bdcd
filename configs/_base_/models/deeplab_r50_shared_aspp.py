# DeepLab ResNet-50 with one ASPP shared by the tasks (a neck), then per-task
# 3x3 conv-BN-ReLU + 1x1 heads: cheaper than deeplab_r50.py (one ASPP
# instead of one per task); the ASPP becomes a shared parameter.
_base_ = './deeplab_r50.py'
model = dict(
    neck=dict(
        type='ASPP',
        in_channels=2048,
        channels=256,
        dilations=(12, 24, 36),
        dropout=0.0),
    heads=dict(
        seg=dict(_delete_=True, type='SegHead', in_channels=[256],
                 num_classes=13, channels=256),
        depth=dict(_delete_=True, type='DepthHead', in_channels=[256],
                   channels=256),
        normal=dict(_delete_=True, type='NormalHead', in_channels=[256],
                    channels=256)))
