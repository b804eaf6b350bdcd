# NYUv2 seg + depth + normals, DeepLab ResNet-50: db_mtl balancer.
_base_ = ['./ew_deeplab_r50.py']
model = dict(balancer=dict(_delete_=True, type='DBMTL'))
