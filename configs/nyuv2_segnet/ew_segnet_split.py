# NYUv2, MTAN protocol, SegNet "split" (hard sharing, MTAN's
# model_segnet_split.py standard type): the shared SegNet ends in one 64-ch
# map that the three reference heads read; 25,055,185 parameters. Equal
# weighting. Other balancers: copy a *_segnet_mtan.py file and take
# model.backbone / model.architecture from here.
_base_ = ['./_base_/segnet_mtan_nyuv2.py']
model = dict(backbone=dict(out='decoder'), architecture=dict(type='HPS'))
