# NYUv2 seg + depth + normals, DeepLab ResNet-50: mgda balancer.
_base_ = ['./ew_deeplab_r50.py']
model = dict(balancer=dict(_delete_=True, type='MGDA', normalization='loss+'))
