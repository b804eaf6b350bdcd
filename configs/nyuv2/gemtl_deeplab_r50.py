# NYUv2 seg + depth + normals, DeepLab ResNet-50: GeMTL, the generalized
# mean of the task losses with p rising from -0.5 by 1 / total_iters per
# iteration; total_iters='auto' is the run's length (200 epochs x 100
# iterations of batch 8 over 795 images), set by BalancerHook.
_base_ = ['./ew_deeplab_r50.py']
model = dict(
    balancer=dict(
        _delete_=True, type='GeMTL', p_start=-0.5, p_end=0.5,
        total_iters='auto'))
