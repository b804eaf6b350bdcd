# SLGrad toy regression (Gregoire et al. 2023; GradNorm's toy problem):
# y_t = |sigma_t tanh((B + eps_t) x)|, x in R^250, y_t in R^100, tasks 't0'
# (main, sigma 1) and 't1' (auxiliary, sigma 100), 30% of the training
# targets replaced by -0.5 (docs/datasets.md#toy-regression). Shared MLP of
# four 100-unit layers, one linear RegressionHead per task, MSE.
# Uniform task weights (EW); the other files of the family change
# model.balancer.
_base_ = [
    '../_base_/datasets/toy_regression.py',
    '../_base_/default_runtime.py',
]
main_task = 't0'
model = dict(
    type='MultiTaskModel',
    # vector inputs: no image normalisation; the MLP stacks the samples
    data_preprocessor=dict(type='BaseDataPreprocessor'),
    backbone=dict(type='MLP', in_dim=250, hidden=(100, 100, 100, 100)),
    architecture=dict(type='HPS'),
    heads=dict(
        t0=dict(type='RegressionHead', in_channels=100, out_dim=100,
                label_index=0),
        t1=dict(type='RegressionHead', in_channels=100, out_dim=100,
                label_index=1)),
    balancer=dict(type='EW'))

val_evaluator = [
    dict(type='RegressionMetric', task='t0', label_index=0),
    dict(type='RegressionMetric', task='t1', label_index=1),
]
test_evaluator = val_evaluator

# (scoped type name 'mtlbox.X' under model.balancer: check_config_types
# looks types up there in the balancer registry)
# held-out batches for SLGrad's main-task gradient: same function, other
# inputs (sample_seed 2), clean targets
slgrad_val_dataloader = dict(
    batch_size=100,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='mtlbox.ToyRegressionDataset', num_samples=1000, in_dim=250,
        out_dim=100, sigmas=(1.0, 100.0), task_names=('t0', 't1'), seed=0,
        sample_seed=2, noise_p=0.0, pipeline=[dict(type='PackVectorInputs')]))

max_epochs = 50
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = []
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
