# Toy multi-task regression (docs/datasets.md#toy-regression):
# y_t = |sigma_t tanh((B + eps_t) x)|; vector samples (PackVectorInputs).
# Tasks 't0', 't1' (labeled_tasks = task_names); gt_label.values [T, K]:
# RegressionHead(label_index=t) / RegressionMetric(label_index=t).
dataset_type = 'ToyRegressionDataset'
common = dict(type=dataset_type, in_dim=250, out_dim=100,
              sigmas=(1.0, 100.0), task_names=('t0', 't1'), seed=0)
pipeline = [dict(type='PackVectorInputs')]

train_dataloader = dict(
    batch_size=100,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(num_samples=10000, sample_seed=0, noise_p=0.3,
                 noise_type='constant', pipeline=pipeline, **common))
val_dataloader = dict(
    batch_size=100,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(num_samples=1000, sample_seed=1, pipeline=pipeline,
                 test_mode=True, **common))
test_dataloader = val_dataloader
