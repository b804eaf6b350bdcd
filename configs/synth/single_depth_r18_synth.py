# Single-task baseline for 'depth': same model, data and schedule as the
# multi-task demo; its test results are the delta_m baseline
# (docs/protocol.md).
_base_ = ['./hps_r18_ew_synth.py']
model = dict(heads=dict(_delete_=True, depth=dict(type='DepthHead', in_channels=[64] * 3)))
val_evaluator = [dict(type='DepthMetric', task='depth')]
test_evaluator = val_evaluator
