# NYUv2 in the MTAN protocol (Liu et al. CVPR 2019; the Nash-MTL / FAMO
# NYUv2 tables): MTAN SegNet (44,229,073 parameters, docs/models.md), the
# MTAN .npy data at 288x384 (13 classes, depth, normals), Adam lr 1e-4,
# StepLR(100, 0.5), 200 epochs, batch 2, the test split ("val" folder: the
# 654 test images; there is no separate validation split) evaluated every
# epoch. Report the mean of the last 10 epochs:
#   tools/analysis/compare_runs.py NAME=WORK_DIR --last-k 10 \
#       --baselines published:nyuv2_segnet_mtan
# mtl/delta_m_paper is the papers' Delta_m (lower is better), against their
# single-task SegNet baselines. See docs/protocol.md.
_base_ = [
    '../../_base_/datasets/nyuv2_mtan.py',
    './segnet_mtan.py',
]
# batch 2; augmentation (scale 1/1.2/1.5 crop + flip) as Nash-MTL / FAMO
train_dataloader = dict(batch_size=2)
val_dataloader = dict(batch_size=2)
test_dataloader = val_dataloader

val_evaluator = dict(
    _delete_=True,
    type='MTLEvaluator',
    metrics=[dict(type='SegMetric', task='seg', num_classes=13),
             dict(type='DepthMetric', task='depth'),
             dict(type='NormalMetric', task='normal')],
    baselines='published:nyuv2_segnet_mtan')
test_evaluator = val_evaluator
