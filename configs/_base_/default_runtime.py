default_scope = 'mtlbox'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='MTLCheckpointHook', interval=1, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'))
# GradConflictHook: pairwise cosines of the per-task shared gradients every
# `interval` iterations, for gradient-level balancers only (there it costs
# about 1/interval of the run; docs/training.md#experiment-tracking)
custom_hooks = [
    dict(type='BalancerHook'),
    dict(type='AugmentationRNGHook'),
    dict(type='GradConflictHook', interval=50),
]

# scalars (per-task losses, task weights, lr, metrics, grad_conflict/*) go to
# WORK_DIR/<timestamp>/vis_data/: scalars.json and TensorBoard events
# (`tensorboard --logdir WORK_DIR`); W&B / MLflow: docs/training.md
vis_backends = [
    dict(type='LocalVisBackend'),
    dict(type='TensorboardVisBackend'),
]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)

# Data parallelism that keeps loss balancers exact (see docs/distributed.md);
# used only when launched with --launcher pytorch (tools/dist_train.sh).
model_wrapper_cfg = dict(type='mtlbox.MTLDistributedDataParallel')
