"""Detection + enhancement on underwater SynthScenes: after a short
training, VOC AP50 and PSNR on the training images are well above those
of the untrained model."""
import copy

import torch
from mmengine.dataset import pseudo_collate

import mtlbox
from mtlbox.evaluation import EnhanceMetric, VOCMetric
from mtlbox.registry import DATASETS, MODELS
from tests.models.heads.synth_model import synth_model

mtlbox.register_all_modules()


def collate(samples):
    # MTLDataPreprocessor converts gt_clean_img in place: fresh copies
    return pseudo_collate(copy.deepcopy(samples))


def evaluate(model, batch):
    model.eval()
    with torch.no_grad():
        out = model.test_step(batch)
    model.train()
    results = {}
    for metric in (VOCMetric(num_classes=4),
                   EnhanceMetric(no_reference=False)):
        metric.process({}, [s.to_dict() for s in out])
        results.update(metric.compute_metrics(metric.results))
    return results


def test_det_and_enhance_learn():
    torch.manual_seed(0)
    dataset, model = synth_model(('det', 'enhance'), seed=5,
                                 underwater=True)
    samples = [dataset[i] for i in range(len(dataset))]
    before = evaluate(model, collate(samples))
    optim = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(30):
        data = model.data_preprocessor(collate(samples), True)
        losses = model.loss(data['inputs'], data['data_samples'])
        optim.zero_grad()
        sum(model.task_losses(losses).values()).backward()
        optim.step()
    after = evaluate(model, collate(samples))
    assert before['AP50'] < 0.05
    assert after['AP50'] > before['AP50'] + 0.3, (before, after)
    assert after['psnr'] > before['psnr'] + 5.0, (before, after)


def test_untrained_residual_enhancement_returns_the_input_image():
    """Through MultiTaskModel the residual head gets the input image with the
    preprocessor's BGR->RGB and normalisation undone: untrained, its
    prediction is the degraded input itself (RGB, [0, 1])."""
    dataset = DATASETS.build(dict(
        type='SynthScenes', num_samples=2, img_size=(40, 56), seed=1,
        tasks=('enhance', ), underwater=True,
        pipeline=[dict(type='PackMTLInputs')]))
    model = MODELS.build(dict(
        type='MultiTaskModel',
        backbone=dict(type='ResNet', depth=18, out_indices=(1, 2)),
        heads=dict(enhance=dict(type='EnhanceHead', in_channels=[128, 256],
                                channels=8)))).eval()
    samples = [dataset[i] for i in range(2)]
    with torch.no_grad():
        out = model.test_step(collate(samples))
    for pred, raw in zip(out, samples):
        expected = raw['inputs'].flip(0).float() / 255  # BGR uint8 -> RGB
        assert torch.allclose(pred.pred_clean_img.data, expected, atol=1e-5)
