# AMTL schedule: AdamW, linear warm-up, then the learning rate drops by 10x
# when the validation score stops improving (ReduceOnPlateau), and an EMA of
# the weights (mmengine EMAHook) is what gets evaluated.
max_epochs = 100
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=5e-4),
    clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=1000),
    dict(type='ReduceOnPlateauLR', monitor='mtl/amtl_score', rule='greater',
         factor=0.1, patience=5, min_value=1e-6, by_epoch=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
ema_hook = dict(type='EMAHook', ema_type='ExponentialMovingAverage',
                momentum=2e-4, update_buffers=True, priority=49)
