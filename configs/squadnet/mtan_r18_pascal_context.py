# Baseline of the SquadNet PASCAL-Context experiment: MTAN, with the
# data, tasks and schedule of squadnet_base_pascal_context.py.
_base_ = ['./squadnet_base_pascal_context.py']
model = dict(
    backbone=dict(_delete_=True, type='ResNet', depth=18,
                  out_indices=(1, 2, 3)),
    neck=dict(type='FPN', in_channels=[128, 256, 512], out_channels=64),
    architecture=dict(_delete_=True, type='MTAN', in_channels=[64, 64, 64]),
    heads=dict(
        _delete_=True,
        seg=dict(type='SegHead', in_channels=[64] * 3, num_classes=21),
        parts=dict(type='PartsHead', in_channels=[64] * 3, num_classes=7),
        saliency=dict(type='SaliencyHead', in_channels=[64] * 3),
        normal=dict(type='NormalHead', in_channels=[64] * 3)),)
