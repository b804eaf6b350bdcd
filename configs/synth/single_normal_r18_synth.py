# Single-task baseline for 'normal': same model, data and schedule as the
# multi-task demo; its test results are the delta_m baseline
# (docs/protocol.md).
_base_ = ['./hps_r18_ew_synth.py']
model = dict(heads=dict(_delete_=True, normal=dict(type='NormalHead', in_channels=[64] * 3)))
val_evaluator = [dict(type='NormalMetric', task='normal')]
test_evaluator = val_evaluator
