# Single-task VMM model for 'depth' on its own source (NYU): its test result
# is the AMTL potential / delta_m baseline of this task (docs/protocol.md).
_base_ = ['./amtl_effv2s.py']
model = dict(
    heads=dict(_delete_=True, depth={{_base_.model.heads.depth}}),
    balancer=dict(_delete_=True, type='EW'))
train_dataloader = dict(
    sampler=dict(ratios=dict(NYU=1)),
    dataset=dict(
        sources=[dict(type='NYUDepthListDataset', data_root={{_base_.nyu_root}}, list_file='nyudepthv2_train_files_with_gt.txt', img_root='sync', depth_root='sync', source='NYU', pipeline={{_base_.source_pipeline}})],
        tasks=dict(NYU=['depth'])))
val_dataloader = dict(
    dataset=dict(
        sources=[dict(type='NYUDepthListDataset', data_root={{_base_.nyu_root}}, list_file='nyudepthv2_test_files_with_gt.txt', img_root='official_splits/test', depth_root='official_splits/test', source='NYU', pipeline={{_base_.source_pipeline}})],
        tasks=dict(NYU=['depth'])))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True, type='MTLEvaluator', metrics=[dict(type='DepthMetric', task='depth', min_depth=1e-3, max_depth=10.0)])
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='auto'))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=1000),
    dict(type='ReduceOnPlateauLR', monitor='depth/delta1', rule='greater', factor=0.1,
         patience=5, min_value=1e-6, by_epoch=True),
]
