# LibMTL / GeMTL NYUv2 schedule: Adam lr 1e-4, weight decay 1e-5, the
# learning rate halves every 100 epochs, 200 epochs.
max_epochs = 200
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, weight_decay=1e-5))
param_scheduler = [
    dict(type='StepLR', step_size=100, gamma=0.5, by_epoch=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
