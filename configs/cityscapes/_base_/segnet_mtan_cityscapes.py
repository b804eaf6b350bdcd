# Cityscapes in the MTAN protocol (the Nash-MTL / FAMO tables): MTAN SegNet
# with two tasks (41,206,984 parameters), MTAN's .npy arrays at 128x256
# (7-class segmentation + inverse depth), Adam lr 1e-4, StepLR(100, 0.5),
# 200 epochs, batch 8, the test split ("val" folder, 500 images) evaluated
# every epoch; report the mean of the last 10 epochs:
#   tools/analysis/compare_runs.py NAME=WORK_DIR --last-k 10 \
#       --baselines published:cityscapes_segnet_mtan
# mtl/delta_m_paper is the papers' Delta_m (lower is better). See
# docs/protocol.md. The pipelines are NYUv2's (the same FAMO / Nash-MTL
# augmentation: zoom 1 / 1.2 / 1.5 with depth / zoom, flip).
_base_ = [
    '../../_base_/datasets/nyuv2_mtan.py',
    '../../nyuv2_segnet/_base_/segnet_mtan.py',
]
_data = dict(type='CityscapesMTANDataset', data_root='data/cityscapes/',
             tasks=('seg', 'depth'))
train_dataloader = dict(batch_size=8, dataset=_data)
val_dataloader = dict(batch_size=8, dataset=_data)
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True,
    type='MTLEvaluator',
    metrics=[dict(type='SegMetric', task='seg', num_classes=7),
             dict(type='DepthMetric', task='depth')],
    baselines='published:cityscapes_segnet_mtan')
test_evaluator = val_evaluator
model = dict(heads=dict(
    _delete_=True,
    seg=dict(type='MTANSegHead', num_classes=7),
    depth=dict(type='MTANDepthHead')))
