"""The small det + dense model on SynthScenes that the learning tests of
the heads train (ResNet-18 + FPN at 32 channels, 64x64 scenes)."""
from mtlbox.registry import DATASETS, MODELS

HEADS = dict(
    det=dict(type='ATSSDetHead', num_classes=4, in_channels=32,
             feat_channels=32, in_indices=(1, 2, 3), strides=(8, 16, 32),
             anchor_sizes=(12, 24, 48)),
    seg=dict(type='SegHead', in_channels=[32] * 4, num_classes=6,
             channels=16),
    depth=dict(type='DepthHead', in_channels=[32] * 4, channels=16),
    enhance=dict(type='EnhanceHead', in_channels=[32] * 4, channels=16))


def synth_model(tasks=('det', 'seg', 'depth'), n=4, seed=3, **dataset_kw):
    """``(dataset, model)``: ``n`` SynthScenes of ``tasks`` (dataset
    seed ``seed``, extra SynthScenes arguments ``dataset_kw``) and a
    MultiTaskModel with one head of :data:`HEADS` per task."""
    dataset = DATASETS.build(dict(
        type='SynthScenes', num_samples=n, img_size=(64, 64), seed=seed,
        tasks=tasks, pipeline=[dict(type='PackMTLInputs')], **dataset_kw))
    model = MODELS.build(dict(
        type='MultiTaskModel',
        backbone=dict(type='ResNet', depth=18, out_indices=(0, 1, 2, 3)),
        neck=dict(type='FPN', in_channels=[64, 128, 256, 512],
                  out_channels=32),
        heads={t: HEADS[t] for t in tasks}))
    return dataset, model
