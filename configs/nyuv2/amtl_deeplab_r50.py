# NYUv2 seg + depth + normals, DeepLab ResNet-50: AMTL. The potentials are
# your single-task results (tools/analysis/collect_baselines.py prints them);
# the values below are placeholders of the right magnitude.
_base_ = ['./ew_deeplab_r50.py']
model = dict(
    balancer=dict(
        _delete_=True, type='AMTL', metric_keys={{_base_.metric_keys}},
        potentials=dict(seg=0.5, depth=0.8, normal=0.3)))
