# NYUv2 (mtan/LibMTL .npy layout, 288x384, 795/654 images) segmentation (13
# classes) + depth + surface normals with the DeepLab ResNet-50 model
# (dilated, OS 8, per-task ASPP heads), equal weighting. The other files of
# this folder change only the balancer. ImageNet weights (recommended) from
# a local file: --cfg-options model.backbone.init_cfg.type=Pretrained
# model.backbone.init_cfg.checkpoint=weights/resnet50.pth
_base_ = [
    '../_base_/models/deeplab_r50.py',
    '../_base_/datasets/nyuv2_mtan.py',
    '../_base_/schedules/adam_step_200e.py',
    '../_base_/default_runtime.py',
]
metric_keys = dict(seg='seg/mIoU', depth='depth/delta1',
                   normal='normal/11.25')
model = dict(balancer=dict(type='EW'))
