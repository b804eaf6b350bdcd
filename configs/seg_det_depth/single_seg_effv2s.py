# Single-task VMM model for 'seg' on its own source (VOC): its test result
# is the AMTL potential / delta_m baseline of this task (docs/protocol.md).
_base_ = ['./amtl_effv2s.py']
model = dict(
    heads=dict(_delete_=True, seg={{_base_.model.heads.seg}}),
    balancer=dict(_delete_=True, type='EW'))
train_dataloader = dict(
    sampler=dict(ratios=dict(VOC=1)),
    dataset=dict(
        sources=[dict(type='VOCMTLDataset', data_root={{_base_.voc_root}}, split='train', tasks=('seg', ), source='VOC', pipeline={{_base_.source_pipeline}})],
        tasks=dict(VOC=['seg'])))
val_dataloader = dict(
    dataset=dict(
        sources=[dict(type='VOCMTLDataset', data_root={{_base_.voc_root}}, split='val', tasks=('seg', ), source='VOC', pipeline={{_base_.source_pipeline}})],
        tasks=dict(VOC=['seg'])))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True, type='MTLEvaluator', metrics=[dict(type='SegMetric', task='seg', num_classes=21)])
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='auto'))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=1000),
    dict(type='ReduceOnPlateauLR', monitor='seg/mIoU', rule='greater', factor=0.1,
         patience=5, min_value=1e-6, by_epoch=True),
]
