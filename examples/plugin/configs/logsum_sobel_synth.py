# Uses components from the plugin package examples/plugin/mtl_plugin.
# Run from the repository root:
#   PYTHONPATH=examples/plugin python tools/train.py \
#       examples/plugin/configs/logsum_sobel_synth.py
_base_ = ['../../../configs/synth/hps_r18_ew_synth.py']
custom_imports = dict(imports=['mtl_plugin'], allow_failed_imports=False)
model = dict(
    heads=dict(depth=dict(type='SobelDepthHead', gradient_weight=0.5)),
    balancer=dict(type='LogSum'))
