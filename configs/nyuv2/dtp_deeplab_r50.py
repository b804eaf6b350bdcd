# NYUv2 seg + depth + normals, DeepLab ResNet-50: dtp balancer.
_base_ = ['./ew_deeplab_r50.py']
model = dict(balancer=dict(_delete_=True, type='DTP', metric_keys={{_base_.metric_keys}}, gamma=0.5))
