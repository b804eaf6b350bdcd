# NYUv2 seg + depth + normals, DeepLab ResNet-50: dwa balancer.
_base_ = ['./ew_deeplab_r50.py']
model = dict(balancer=dict(_delete_=True, type='DWA', temperature=2.0))
