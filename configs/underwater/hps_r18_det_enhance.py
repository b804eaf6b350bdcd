# Underwater detection + enhancement baseline: hard parameter sharing on a
# ResNet-18 + FPN (strides 8/16/32), same data and schedule as
# squadnet_det_enhance.py.
_base_ = ['./squadnet_det_enhance.py']
model = dict(
    backbone=dict(_delete_=True, type='ResNet', depth=18,
                  out_indices=(1, 2, 3)),
    neck=dict(type='FPN', in_channels=[128, 256, 512], out_channels=64),
    architecture=dict(_delete_=True, type='HPS'),
    heads=dict(
        _delete_=True,
        det=dict(type='ATSSDetHead', num_classes=4, in_channels=[64] * 3,
                 feat_channels=64, strides=(8, 16, 32),
                 anchor_sizes=(32, 64, 128)),
        enhance=dict(type='EnhanceHead', in_channels=[64] * 3)))
