# Single-task baseline for 'seg': same model, data and schedule as the
# multi-task demo; its test results are the delta_m baseline
# (docs/protocol.md).
_base_ = ['./hps_r18_ew_synth.py']
model = dict(heads=dict(_delete_=True, seg=dict(type='SegHead', in_channels=[64] * 3, num_classes=6)))
val_evaluator = [dict(type='SegMetric', task='seg')]
test_evaluator = val_evaluator
