# CelebA, 40 binary attributes as 40 tasks, in the Nash-MTL / FAMO protocol
# (docs/protocol.md#celeba): images resized to 64x64, RGB in [0, 1] without
# normalisation; the FAMO shared network (CelebAConvNet, 5,176,640
# parameters) and 40 heads Linear(512, 1) + sigmoid + BCE (20,520); Adam lr
# 3e-4, 15 epochs, batch 256, no schedule. Every epoch evaluates the val
# split; the checkpoint with the best mean F1 (mtl/mean_f1) is kept,
# and tools/test.py on it reports the test split's per-attribute F1 and
# mtl/delta_m_paper against FAMO's single-task F1 (lower is better).
_base_ = ['../../_base_/default_runtime.py']
attributes = (
    '5_o_Clock_Shadow', 'Arched_Eyebrows', 'Attractive', 'Bags_Under_Eyes',
    'Bald', 'Bangs', 'Big_Lips', 'Big_Nose', 'Black_Hair', 'Blond_Hair',
    'Blurry', 'Brown_Hair', 'Bushy_Eyebrows', 'Chubby', 'Double_Chin',
    'Eyeglasses', 'Goatee', 'Gray_Hair', 'Heavy_Makeup', 'High_Cheekbones',
    'Male', 'Mouth_Slightly_Open', 'Mustache', 'Narrow_Eyes', 'No_Beard',
    'Oval_Face', 'Pale_Skin', 'Pointy_Nose', 'Receding_Hairline',
    'Rosy_Cheeks', 'Sideburns', 'Smiling', 'Straight_Hair', 'Wavy_Hair',
    'Wearing_Earrings', 'Wearing_Hat', 'Wearing_Lipstick',
    'Wearing_Necklace', 'Wearing_Necktie', 'Young')
dataset_type = 'CelebADataset'
data_root = 'data/celeba/'
meta_keys = ('img_path', 'img_shape', 'ori_shape', 'sample_idx', 'source',
             'labeled_tasks', 'task_names')
pipeline = [
    dict(type='LoadMTLImageFromFile'),
    dict(type='MTLResize', scale=(64, 64)),
    dict(type='PackMTLInputs', meta_keys=meta_keys),
]
train_dataloader = dict(
    batch_size=256,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, split='train',
                 pipeline=pipeline))
val_dataloader = dict(
    batch_size=256,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='val',
                 pipeline=pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=256,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, split='test',
                 pipeline=pipeline, test_mode=True))
val_evaluator = dict(
    type='MTLEvaluator',
    metrics=[dict(type='BinaryF1Metric', task=name, label_index=i)
             for i, name in enumerate(attributes)],
    baselines='published:celeba_famo',
    averages={'mtl/mean_f1': 'f1'})
test_evaluator = val_evaluator

model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(
        type='MTLDataPreprocessor',
        mean=(0.0, 0.0, 0.0),
        std=(255.0, 255.0, 255.0),
        bgr_to_rgb=True,
        pad_size_divisor=1),
    backbone=dict(type='CelebAConvNet'),
    architecture=dict(type='HPS'),
    heads={name: dict(type='BinaryClsHead', in_channels=512, label_index=i)
           for i, name in enumerate(attributes)},
    balancer=dict(type='EW'),
    # one autograd.grad per task: 'auto' would time a vmapped backward on
    # its first steps, which holds 40 sets of activation gradients (measured
    # on the CPU: +3.5 GiB at batch 16, +5.5 GiB at 32, ~33 GiB at 256)
    grad_engine='sequential')

optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='Adam', lr=3e-4))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=15, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='MTLCheckpointHook', interval=1, max_keep_ckpts=1,
                    save_best='mtl/mean_f1', rule='greater'))
