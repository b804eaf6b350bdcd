# MMoE (Ma et al., KDD 2018): 4 conv experts over the shared ResNet-18 + FPN
# levels, one softmax gate per task. CGC / PLE / DSelectK take the same
# in_channels, e.g.
#   architecture=dict(type='CGC', in_channels=[64] * 3,
#                     num_shared_experts=2, num_task_experts=1)
#   architecture=dict(type='PLE', in_channels=[64] * 3, num_layers=2,
#                     num_shared_experts=2, num_task_experts=1)
#   architecture=dict(type='DSelectK', in_channels=[64] * 3, num_experts=4,
#                     k=2)
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(
        type='MTLDataPreprocessor',
        mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375),
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(type='ResNet', depth=18, out_indices=(1, 2, 3)),
    neck=dict(type='FPN', in_channels=[128, 256, 512], out_channels=64),
    architecture=dict(type='MMoE', in_channels=[64, 64, 64], num_experts=4),
    heads=dict(
        seg=dict(type='SegHead', in_channels=[64] * 3, num_classes=6),
        depth=dict(type='DepthHead', in_channels=[64] * 3),
        normal=dict(type='NormalHead', in_channels=[64] * 3)),
    balancer=dict(type='EW'))
