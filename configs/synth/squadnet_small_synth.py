# CPU twin of configs/squadnet/: SquadNet-small with one task group per
# task (seg, depth, normals) + 2 shared groups on SynthScenes.
_base_ = ['./hps_r18_ew_synth.py']
model = dict(
    backbone=dict(_delete_=True, type='SquadNet', num_tasks=3, num_shared=2,
                  channels=16, depths=(2, 2, 2), shuffle=True,
                  out_indices=(2, )),
    neck=None,
    architecture=dict(_delete_=True, type='SquadSplit', num_shared=2),
    heads=dict(
        _delete_=True,
        seg=dict(type='SegHead', in_channels=[192], num_classes=6,
                 channels=64),
        depth=dict(type='DepthHead', in_channels=[192], channels=64),
        normal=dict(type='NormalHead', in_channels=[192], channels=64)))
