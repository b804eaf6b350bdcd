# NDDR-CNN (Gao et al., CVPR 2019): one ResNet-18 column per task, NDDR
# layers (1x1 conv init 0.8 I / 0.05 I, BN momentum 0.05) after the stem and
# stages 0-2, a per-task FPN. The cross-stitch model with NDDR layers in
# place of the stitch units (same columns, FPNs, heads). Learning-rate
# multiplier of the NDDR layers:
#   optim_wrapper = dict(paramwise_cfg=dict(
#       custom_keys={'nddr_layers': dict(lr_mult=100)}))
_base_ = ['./cross_stitch_r18.py']
model = dict(
    architecture=dict(
        _delete_=True,
        type='NDDR',
        backbone={{_base_.model.architecture.backbone}},
        neck={{_base_.model.architecture.neck}},
        init_self=0.8,
        init_other=0.05,
        bn_momentum=0.05))
