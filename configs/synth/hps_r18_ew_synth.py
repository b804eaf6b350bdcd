# Demo: seg + depth + normals on SynthScenes, hard sharing, equal weights.
_base_ = [
    '../_base_/models/hps_r18_fpn.py',
    '../_base_/datasets/synth_scenes.py',
    '../_base_/schedules/adamw_epochs.py',
    '../_base_/default_runtime.py',
]
