# Underwater object detection (DUO, COCO JSON) + underwater image
# enhancement (UIEB raw/reference pairs), partially annotated: a DUO image
# has boxes only, a UIEB image a clean target only. SquadNet-base with one
# task group per task (T=2, S=2); the detection head reads the stride-8
# squad features. The SquadNet paper's own underwater data are not public;
# this is the public-data definition (docs/datasets.md#underwater).
_base_ = [
    '../_base_/models/squadnet_base.py',
    '../_base_/datasets/underwater_det_enhance.py',
    '../_base_/schedules/adamw_epochs.py',
    '../_base_/default_runtime.py',
]
model = dict(
    heads=dict(
        _delete_=True,
        det=dict(type='ATSSDetHead', num_classes=4, in_channels=[384],
                 feat_channels=128, strides=(8, ), anchor_sizes=(32, ),
                 topk=9),
        enhance=dict(type='EnhanceHead', in_channels=[384], channels=128)))
val_evaluator = [
    dict(type='COCOMetric', task='det', num_classes=4),
    dict(type='EnhanceMetric', task='enhance'),
]
test_evaluator = val_evaluator
max_epochs = 60
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=500),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, T_max=max_epochs,
         eta_min=1e-6, convert_to_iter_based=True),
]
