# SynthScenes: the built-in ray-cast dataset (no files needed).
dataset_type = 'SynthScenes'
img_size = (96, 128)
tasks = ('seg', 'depth', 'normal')

train_pipeline = [
    dict(type='MTLRandomFlip', prob=0.5),
    dict(type='PackMTLInputs'),
]
test_pipeline = [dict(type='PackMTLInputs')]

train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type, num_samples=800, img_size=img_size, seed=0,
        tasks=tasks, cache=True, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, num_samples=128, img_size=img_size, seed=1,
        tasks=tasks, pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader

val_evaluator = [
    dict(type='SegMetric', task='seg'),
    dict(type='DepthMetric', task='depth'),
    dict(type='NormalMetric', task='normal'),
]
test_evaluator = val_evaluator
