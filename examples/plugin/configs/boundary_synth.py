# A plugin task kind: object boundaries (examples/plugin/mtl_plugin/
# boundary.py) next to segmentation and depth on SynthScenes, with zero
# edits of mtlbox. Run from the repository root:
#   PYTHONPATH=examples/plugin python tools/train.py \
#       examples/plugin/configs/boundary_synth.py
_base_ = ['../../../configs/synth/hps_r18_ew_synth.py']
custom_imports = dict(imports=['mtl_plugin'], allow_failed_imports=False)
tasks = ('seg', 'depth')
model = dict(
    heads=dict(
        _delete_=True,
        seg=dict(type='SegHead', in_channels=[64] * 3, num_classes=6),
        depth=dict(type='DepthHead', in_channels=[64] * 3),
        boundary=dict(type='BoundaryHead', in_channels=[64] * 3)))
train_pipeline = [
    dict(type='LoadBoundaryAnnotation'),
    dict(type='MTLRandomFlip', prob=0.5),
    dict(type='PackMTLInputs'),
]
test_pipeline = [dict(type='LoadBoundaryAnnotation'),
                 dict(type='PackMTLInputs')]
train_dataloader = dict(dataset=dict(tasks=tasks, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(tasks=tasks, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='SegMetric', task='seg'),
    dict(type='DepthMetric', task='depth'),
    dict(type='BoundaryF1Metric', task='boundary'),
]
test_evaluator = val_evaluator
