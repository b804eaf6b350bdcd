# RUOD underwater detection, COCO JSON (docs/datasets.md#underwater-coco):
# the DUO pipelines and loaders with RUOD's folders and its 10 classes.
_base_ = ['./duo.py']
data_root = 'data/RUOD/'
train_dataloader = dict(
    dataset=dict(data_root=data_root, source='RUOD',
                 ann_file='RUOD_ANN/instances_train.json',
                 img_dir='RUOD_pic/train'))
val_dataloader = dict(
    dataset=dict(data_root=data_root, source='RUOD',
                 ann_file='RUOD_ANN/instances_test.json',
                 img_dir='RUOD_pic/test'))
test_dataloader = val_dataloader

val_evaluator = [dict(type='COCOMetric', task='det', num_classes=10)]
test_evaluator = val_evaluator
