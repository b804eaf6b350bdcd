# SquadNet-base (Chen & Er, Neurocomputing 2025), NYUD-v2 setting: T=2 task
# groups (seg, depth) + S=2 shared groups of C=32 channels, depths 8/8/8,
# output stride 8 (G*4C = 512 ch). SquadSplit gives each task [its group,
# shared groups] = 3 * 128 = 384 ch. NYUD-MT: 40 classes.
# PASCAL-Context: num_tasks=4 (seg, parts, saliency, normals), num_shared=2,
# heads in_channels=[(1 + 2) * 128].
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(
        type='MTLDataPreprocessor',
        mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375),
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(
        type='SquadNet',
        num_tasks=2,
        num_shared=2,
        channels=32,
        depths=(8, 8, 8),
        shuffle=True,
        out_indices=(2, )),
    architecture=dict(type='SquadSplit', num_shared=2),
    heads=dict(
        seg=dict(type='SegHead', in_channels=[384], num_classes=40,
                 channels=128),
        depth=dict(type='DepthHead', in_channels=[384], channels=128)),
    balancer=dict(type='EW'))
