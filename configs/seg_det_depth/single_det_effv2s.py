# Single-task VMM model for 'det' on its own source (VOC): its test result
# is the AMTL potential / delta_m baseline of this task (docs/protocol.md).
_base_ = ['./amtl_effv2s.py']
model = dict(
    heads=dict(_delete_=True, det={{_base_.model.heads.det}}),
    balancer=dict(_delete_=True, type='EW'))
train_dataloader = dict(
    sampler=dict(ratios=dict(VOC=1)),
    dataset=dict(
        sources=[dict(type='VOCMTLDataset', data_root={{_base_.voc_root}}, split='train', tasks=('det', ), source='VOC', pipeline={{_base_.source_pipeline}})],
        tasks=dict(VOC=['det'])))
val_dataloader = dict(
    dataset=dict(
        sources=[dict(type='VOCMTLDataset', data_root={{_base_.voc_root}}, split='val', tasks=('det', ), source='VOC', pipeline={{_base_.source_pipeline}})],
        tasks=dict(VOC=['det'])))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True, type='MTLEvaluator', metrics=[dict(type='VOCMetric', task='det', num_classes=20)])
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='auto'))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=1000),
    dict(type='ReduceOnPlateauLR', monitor='det/mAP', rule='greater', factor=0.1,
         patience=5, min_value=1e-6, by_epoch=True),
]
