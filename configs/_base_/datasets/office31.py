# Office-31, domains as tasks (docs/datasets.md#office): the Office-Home
# pipelines and loaders on the three Office-31 domains (amazon, dslr,
# webcam); each sample is labelled for its own domain, packed as 'cls'.
#   --cfg-options img_scale="(256,256)" data_root=/data/office-31/
_base_ = ['./office_home.py']
dataset_type = 'Office31Dataset'
data_root = 'data/office-31/'
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
