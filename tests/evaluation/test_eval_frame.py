"""Predictions and ground truth meet in the original image frame.

The samples here are written by hand (not by mtlbox's fixture generator):
images whose size and aspect differ from the input size, seg maps with 255
borders, invalid depth, a 'difficult' box, a batch of mixed sizes, flips.
An *oracle* head that outputs the ground truth in the network's input frame
(resized, padded, flipped) must score perfectly once its prediction is
mapped back, against the labels as they were read from disk.
"""
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate

from mtlbox.datasets.transforms import (MTLPad, MTLRandomCrop, MTLRandomFlip,
                                        MTLResize, PackMTLInputs)
from mtlbox.evaluation.metrics import (DepthMetric, NormalMetric, SegMetric,
                                       VOCMetric)
from mtlbox.models.data_preprocessor import MTLDataPreprocessor
from mtlbox.models.heads import DepthHead, NormalHead, SegHead
from mtlbox.models.heads.atss_det_head import rescale_boxes

NUM_CLASSES = 5
TASKS = ['det', 'seg', 'depth', 'normal']


def _raw_sample(h, w, seed):
    """Blocky seg map (8 px blocks) with a 255 border, a depth ramp with an
    invalid corner, unit normals, three boxes (one 'difficult')."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, NUM_CLASSES, (-(-h // 8), -(-w // 8)))
    seg = np.kron(blocks, np.ones((8, 8), np.int64))[:h, :w].astype(np.uint8)
    seg[:2], seg[:, -2:] = 255, 255
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    depth = 1.0 + 4.0 * xx / w + 2.0 * yy / h
    depth[: h // 5, : w // 5] = 0  # invalid
    normal = np.stack([xx / w - 0.5, yy / h - 0.5, -np.ones_like(xx)], -1)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    boxes = np.array([[3, 4, w * 0.5, h * 0.6], [w * 0.3, h * 0.2, w - 2,
                      h - 5], [10, 10, 30, 25]], np.float32)
    return dict(
        img=rng.integers(0, 255, (h, w, 3), dtype=np.uint8),
        img_path=f'img_{seed}.jpg', ori_shape=(h, w), img_shape=(h, w),
        gt_seg_map=seg, gt_depth=depth, gt_normal=normal.astype(np.float32),
        gt_bboxes=boxes, gt_bboxes_labels=np.array([1, 3, 0]),
        gt_ignore_flags=np.array([False, False, True]),
        labeled_tasks=list(TASKS), sample_idx=seed)


def _pipeline(results, scale, flip, test_mode, gt_frame='auto'):
    results = dict(results, test_mode=test_mode)
    results = MTLResize(scale, keep_ratio=True)(results)
    results = MTLRandomFlip(prob=1.0 if flip else 0.0)(results)
    results = MTLPad(size_divisor=32)(results)
    return PackMTLInputs(gt_frame=gt_frame)(results)


def test_pack_original_frame_keeps_labels_as_read():
    raw = _raw_sample(120, 160, 0)
    packed = _pipeline(raw, (640, 640), True, test_mode=True)['data_samples']
    assert packed.metainfo['gt_frame'] == 'original'
    assert packed.metainfo['img_shape'] == (480, 640)
    np.testing.assert_array_equal(packed.gt_sem_seg.data[0].numpy(),
                                  raw['gt_seg_map'])
    np.testing.assert_array_equal(packed.gt_depth.data[0].numpy(),
                                  raw['gt_depth'])
    np.testing.assert_array_equal(packed.gt_instances.bboxes.numpy(),
                                  raw['gt_bboxes'])
    np.testing.assert_array_equal(packed.gt_instances.ignore_flags.numpy(),
                                  raw['gt_ignore_flags'])
    train = _pipeline(raw, (640, 640), True, test_mode=False)['data_samples']
    assert train.metainfo['gt_frame'] == 'input'
    assert tuple(train.gt_sem_seg.shape) == (480, 640)
    # flipped and scaled by 4 in the input frame
    x1 = 640 - raw['gt_bboxes'][0, 2] * 4
    assert train.gt_instances.bboxes[0, 0].item() == pytest.approx(x1)


def test_a_crop_in_a_test_pipeline_is_refused():
    results = dict(_raw_sample(120, 160, 0), test_mode=True)
    results = MTLRandomCrop((64, 64), seed=0)(results)
    with pytest.raises(ValueError, match='MTLRandomCrop'):
        PackMTLInputs()(results)


def _oracle_maps(train_sample, shape):
    """Raw head outputs equal to the input-frame labels, padded to the
    batch ``shape``."""
    h, w = shape

    def pad(t, value):
        out = t.new_full((t.shape[0], h, w), value)
        out[:, :t.shape[1], :t.shape[2]] = t
        return out

    seg = pad(train_sample.gt_sem_seg.data, 255)[0]
    onehot = torch.zeros(NUM_CLASSES, h, w)
    valid = seg < NUM_CLASSES
    onehot[seg[valid], valid.nonzero()[:, 0], valid.nonzero()[:, 1]] = 10.0
    depth = pad(train_sample.gt_depth.data.float(), 1.0).clamp_min(0.01)
    # DepthHead: softplus(x) + min_depth; invert it
    depth_raw = torch.log(torch.expm1(depth - 1e-3))
    normal = pad(train_sample.gt_normal.data.float(), 0.0)
    normal[2][normal.abs().sum(0) == 0] = -1.0  # any unit vector off-label
    return dict(seg=onehot, depth=depth_raw, normal=normal)


@pytest.mark.parametrize('flip', [False, True])
def test_oracle_scores_perfectly_in_the_original_frame(flip):
    # a batch of mixed sizes and aspects: x4 exactly, and a non-integer
    # factor (130 x 90 -> 443 x 640 with keep_ratio at 640)
    raws = [_raw_sample(120, 160, 0), _raw_sample(130, 90, 1)]
    evals = [_pipeline(r, (640, 640), flip, True) for r in raws]
    trains = [_pipeline(r, (640, 640), flip, False)['data_samples']
              for r in raws]
    pre = MTLDataPreprocessor(pad_size_divisor=32)
    batch = pre(pseudo_collate(evals), training=False)
    shape = batch['inputs'].shape[-2:]
    samples = batch['data_samples']
    oracles = [_oracle_maps(t, shape) for t in trains]
    heads = dict(seg=SegHead(8, num_classes=NUM_CLASSES), depth=DepthHead(8),
                 normal=NormalHead(8))
    for task, head in heads.items():
        head.task = task
        raw = torch.stack([o[task] for o in oracles])
        head.forward = lambda feats, raw=raw: raw
        head.predict([torch.zeros(2, 8, 4, 4)], samples)
    # boxes: the input-frame labels as detections, mapped back
    for sample, train in zip(samples, trains):
        boxes = rescale_boxes(train.gt_instances.bboxes,
                              sample.metainfo['img_shape'], sample.metainfo)
        np.testing.assert_allclose(boxes.numpy(),
                                   sample.gt_instances.bboxes.numpy(),
                                   atol=1e-3)
        sample.pred_instances = train.gt_instances.new(
            bboxes=boxes, labels=train.gt_instances.labels,
            scores=torch.ones(len(boxes)))
    dicts = [s.to_dict() for s in samples]
    for sample, raw in zip(dicts, raws):
        assert sample['pred_sem_seg']['data'].shape[-2:] == \
            raw['gt_seg_map'].shape
    results = {}
    for metric in (SegMetric(num_classes=NUM_CLASSES), DepthMetric(),
                   NormalMetric(), VOCMetric(num_classes=4, task='det')):
        metric.process(None, dicts)
        results.update(metric.compute_metrics(metric.results))
    # sample 0 maps back exactly (x4): sample 1 interpolates
    assert results['mIoU'] > 0.97
    assert results['abs_rel'] < 0.01
    assert results['mean'] < 1.0  # degrees
    assert results['mAP'] == pytest.approx(1.0)


def test_oracle_exact_for_an_integer_scale():
    raw = _raw_sample(120, 160, 0)
    ev = _pipeline(raw, (640, 640), True, True)
    train = _pipeline(raw, (640, 640), True, False)['data_samples']
    batch = MTLDataPreprocessor()(pseudo_collate([ev]), training=False)
    sample = batch['data_samples'][0]
    head = SegHead(8, num_classes=NUM_CLASSES)
    head.task = 'seg'
    raw_out = _oracle_maps(train, batch['inputs'].shape[-2:])['seg'][None]
    head.forward = lambda feats: raw_out
    head.predict([torch.zeros(1, 8, 4, 4)], [sample])
    pred = sample.pred_sem_seg.data[0].numpy()
    gt = raw['gt_seg_map']
    labelled = gt != 255
    np.testing.assert_array_equal(pred[labelled], gt[labelled])


def test_input_frame_labels_of_a_resized_image_are_refused():
    raw = _raw_sample(120, 160, 0)
    ev = _pipeline(raw, (640, 640), False, test_mode=False)
    batch = MTLDataPreprocessor()(pseudo_collate([ev]), training=False)
    sample = batch['data_samples'][0]
    sample.pred_sem_seg = sample.gt_sem_seg
    metric = SegMetric(num_classes=NUM_CLASSES)
    with pytest.raises(ValueError, match='test_mode=True'):
        metric.process(None, [sample.to_dict()])


def test_original_frame_labels_of_a_resized_image_cannot_train():
    ev = _pipeline(_raw_sample(120, 160, 0), (640, 640), False, True)
    with pytest.raises(ValueError, match='input frame'):
        MTLDataPreprocessor()(pseudo_collate([ev]), training=True)
