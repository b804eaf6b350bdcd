"""ATSSDetHead: prior bias, post-processing, rescaling, loss masking."""
import math

import pytest
import torch
from mmengine.structures import InstanceData

from mtlbox.models.heads import ATSSDetHead, postprocess_detections
from mtlbox.models.heads.atss_det_head import rescale_boxes
from mtlbox.structures import MTLDataSample


def make_sample(boxes, labels, tasks=('det',), shape=(64, 64), ignore=None):
    s = MTLDataSample(metainfo=dict(
        labeled_tasks=list(tasks), img_shape=shape, ori_shape=shape,
        batch_input_shape=shape, scale_factor=(1.0, 1.0)))
    if 'det' in tasks:
        inst = InstanceData()
        inst.bboxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
        inst.labels = torch.tensor(labels, dtype=torch.long)
        inst.ignore_flags = (torch.zeros(len(labels), dtype=torch.bool)
                             if ignore is None else torch.tensor(ignore))
        s.gt_instances = inst
    return s


def make_head(**kw):
    kw.setdefault('num_classes', 3)
    kw.setdefault('in_channels', 8)
    head = ATSSDetHead(feat_channels=8, strides=(8, 16), anchor_sizes=(16, 32),
                       topk=9, **kw)
    head.task = 'det'
    return head


def feats(batch=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, 8, 8, 8, generator=g),
            torch.randn(batch, 8, 4, 4, generator=g)]


def test_prior_bias_gives_one_percent():
    head = make_head()
    out = head(feats())
    assert len(out) == 2  # no quality branch unless centerness=True
    cls, reg = out
    assert cls[0].shape == (2, 3 * 3, 8, 8) and reg[1].shape == (2, 12, 4, 4)
    bias = head.cls_branches[0][-1].bias
    assert torch.allclose(bias, torch.full_like(bias, -math.log(99)))


def test_postprocess_by_hand():
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 0., 11., 10.],
                          [50., 50., 60., 60.], [0., 0., 10., 10.]])
    scores = torch.tensor([[0.9, 0.0], [0.8, 0.7], [0.005, 0.3],
                           [0.0, 0.6]])
    # > 0.01: (0,c0) .9, (1,c0) .8, (1,c1) .7, (2,c1) .3, (3,c1) .6.
    # NMS 0.5 per class: c0: box1 overlaps box0 (IoU 90/110) -> dropped;
    # c1: box1 (.7) kept, box3 (.6) overlaps it (IoU 0.818) -> dropped,
    # box2 (.3) kept. -> .9 c0, .7 c1, .3 c1
    b, s, l = postprocess_detections(scores, boxes, 0.01, 100, 0.5, 10, 10)
    assert torch.allclose(s, torch.tensor([0.9, 0.7, 0.3]))
    assert l.tolist() == [0, 1, 1]
    assert torch.equal(b, boxes[[0, 1, 2]])
    # max one per class, then at most 1 per image
    b, s, l = postprocess_detections(scores, boxes, 0.01, 100, 0.5, 1, 10)
    assert l.tolist() == [0, 1]
    b, s, l = postprocess_detections(scores, boxes, 0.01, 100, 0.5, 10, 1)
    assert s.tolist() == [pytest.approx(0.9)]
    # top-k before NMS keeps only the 2 best pairs
    b, s, l = postprocess_detections(scores, boxes, 0.01, 2, 0.5, 10, 10)
    assert l.tolist() == [0]


def test_rescale_to_original_image():
    boxes = torch.tensor([[-4., 10., 40., 70.]])
    meta = dict(scale_factor=(2.0, 4.0), ori_shape=(15, 100))
    out = rescale_boxes(boxes, (60, 200), meta)
    # clip to img 60x200 -> [0,10,40,60]; / (2,4) -> [0,2.5,20,15]
    assert torch.allclose(out, torch.tensor([[0., 2.5, 20., 15.]]))


def test_predict_fills_instances_in_original_pixels():
    head = make_head().eval()
    samples = [make_sample([], [], tasks=()), make_sample([], [], tasks=())]
    for s in samples:
        s.set_metainfo(dict(scale_factor=(0.5, 0.5), ori_shape=(128, 128)))
    head.predict(feats(), samples)
    for s in samples:
        p = s.pred_instances
        assert p.bboxes.shape[1] == 4 and len(p.scores) == len(p.labels)
        assert len(p.scores) <= 200
        assert p.bboxes.max() <= 128 and p.bboxes.max() > 64  # rescaled


def test_loss_only_over_labelled_samples():
    head = make_head().eval()  # eval: BN statistics do not mix samples
    a = make_sample([[4, 4, 30, 40]], [1])
    b_unlab = make_sample([], [], tasks=('seg',))
    f = feats()
    both = head.loss(f, [a, b_unlab])
    alone = head.loss([x[:1] for x in f], [a])
    assert set(both) == {'loss_cls', 'loss_bbox'}
    for k in both:
        assert torch.allclose(both[k], alone[k])
    assert head.loss(f, [make_sample([], [], ('seg',))] * 2) == {}
    # a labelled image without boxes: only negatives, finite, zero box loss
    empty = head.loss(f, [make_sample([], []), make_sample([], [])])
    assert torch.isfinite(empty['loss_cls']) and empty['loss_bbox'] == 0
    empty['loss_bbox'].backward()  # stays in the graph


def test_ignored_boxes_drop_out_of_loss():
    head = make_head().eval()
    f = [x[:1] for x in feats()]
    plain = head.loss(f, [make_sample([[4, 4, 30, 40]], [1])])
    with_difficult = head.loss(f, [make_sample(
        [[4, 4, 30, 40], [36, 36, 60, 60]], [1, 2], ignore=[False, True])])
    # the difficult box adds no positive, its anchors are not negatives
    assert torch.allclose(plain['loss_bbox'], with_difficult['loss_bbox'])
    assert with_difficult['loss_cls'] < plain['loss_cls']


def test_wrong_levels_error_names_fix():
    head = make_head()
    with pytest.raises(ValueError, match='in_indices'):
        head(feats()[:1])
    head = make_head(in_indices=(1, 2))
    cls, _ = head([torch.zeros(1, 8, 16, 16)] + feats(1))
    assert cls[0].shape[-1] == 8


def test_loss_by_sample_matches_single_image_loss():
    head = make_head().eval()
    f = feats()
    a = make_sample([[4, 4, 30, 40]], [1])
    b = make_sample([], [], tasks=('seg',))
    losses, mask = head.loss_by_sample(f, [a, b])
    assert mask.tolist() == [True, False] and losses[1] == 0
    alone = head.loss([x[:1] for x in f], [a])
    assert torch.allclose(losses[0], alone['loss_cls'] + alone['loss_bbox'])
    losses.sum().backward()


def test_loss_normalised_by_number_of_positives_by_hand():
    """Two boxes, five anchors (levels of 3 and 2), topk 2: ATSS gives
    a0 -> g0 (IoU 100/160) and a2 -> g1 (IoU 80/140) (worked out in
    tests/models/heads/test_det_task_modules.py), so 2 positives.

    Zero logits (p = 1/2) and zero deltas (decoded box = anchor): every
    entry's BCE is ln 2; a positive weighs 0.25 |t - 1/2|^2, the other 8 of
    the 5 x 2 entries 0.75 (1/2)^2. CIoU of the two pairs from the formula
    ``1 - IoU + rho^2 / c^2 + a v``.
    """
    from mtlbox.models.heads.atss_det_head import atss_det_loss
    from mtlbox.models.losses import CIoULoss, IoUAwareFocalLoss
    from mtlbox.models.task_modules import SSDBoxCoder
    anchors = torch.tensor([[0., 0., 10., 10.], [10., 0., 20., 10.],
                            [20., 0., 30., 10.], [0., 0., 20., 20.],
                            [20., 0., 40., 20.]])
    gts = torch.tensor([[0., 0., 16., 10.], [22., 0., 32., 12.]])
    out = atss_det_loss(torch.zeros(1, 5, 2), torch.zeros(1, 5, 4),
                        anchors, [3, 2], [gts], [torch.tensor([0, 1])],
                        [None], SSDBoxCoder(), IoUAwareFocalLoss(0.25, 2.),
                        CIoULoss(10.0), topk=2)
    assert out.avg_factors == dict(loss_cls=2.0, loss_bbox=2.0)
    ln2 = math.log(2)
    t0, t1 = 100 / 160, 80 / 140
    cls = (0.25 * ln2 * ((t0 - .5)**2 + (t1 - .5)**2) +
           8 * 0.75 * 0.25 * ln2) / 2
    assert out['loss_cls'].item() == pytest.approx(cls, rel=1e-5)

    def ciou(iou, rho2, c2, wg, hg, w, h):
        v = 4 / math.pi**2 * (math.atan(wg / hg) - math.atan(w / h))**2
        return 1 - iou + rho2 / c2 + v / (1 - iou + v) * v

    # a0 [0,0,10,10] vs g0 [0,0,16,10]: centres (5,5)/(8,5), hull 16x10;
    # a2 [20,0,30,10] vs g1 [22,0,32,12]: centres (25,5)/(27,6), hull 12x12
    box = 10 * (ciou(t0, 9, 16**2 + 10**2, 16, 10, 10, 10) +
                ciou(t1, 5, 12**2 + 12**2, 10, 12, 10, 10)) / 2
    assert out['loss_bbox'].item() == pytest.approx(box, rel=1e-5)


@pytest.mark.parametrize('prior', [0.01, 0.05])
def test_initial_probability_is_prior(prior):
    head = make_head(prior_prob=prior).eval()
    # with all-zero features every logit is the bias: p = prior exactly
    cls, _ = head([torch.zeros(1, 8, 8, 8), torch.zeros(1, 8, 4, 4)])
    for c in cls:
        assert torch.allclose(c.sigmoid(), torch.full_like(c, prior))


@pytest.mark.parametrize('block', ['conv', 'mbconv'])
def test_initial_probabilities_stay_near_prior_on_large_features(block):
    """The flagship's TRIV2-BiFPN sums levels without normalising (rms ~3.4,
    peaks ~45 at init); the towers end in BatchNorm, so the class logits at
    init stay near the prior bias whatever the feature scale. With the
    residual MBConv tower of before, 1715 of these 3M (anchor, class)
    pairs started above p = 0.1 (max 0.43) and the flagship's first
    loss_cls was 12.6 instead of 0.07 (640x640, batch 2)."""
    torch.manual_seed(0)
    head = ATSSDetHead(num_classes=20, in_channels=[64] * 3, block=block)
    head.train()
    feats = [torch.randn(2, 64, s, s) * 4 for s in (40, 20, 10)]
    with torch.no_grad():
        cls, _ = head(feats)
    p = torch.cat([c.flatten() for c in cls]).sigmoid()
    assert p.mean().item() == pytest.approx(0.01, rel=0.15)
    assert p.max().item() < 0.1


def test_centerness_target_by_hand():
    from mtlbox.models.heads.atss_det_head import centerness_target
    anchors = torch.tensor([[0., 0., 10., 10.], [20., 0., 30., 10.],
                            [40., 40., 50., 50.]])
    boxes = torch.tensor([[0., 0., 16., 10.], [22., 0., 32., 12.],
                          [0., 0., 16., 10.]])
    # centres (5, 5), (25, 5), (45, 45): l, r, t, b = 5, 11, 5, 5 and
    # 3, 7, 5, 7; the third centre lies outside its box
    want = [math.sqrt(5 / 11), math.sqrt(3 / 7 * 5 / 7), 0.0]
    assert centerness_target(anchors, boxes).tolist() == pytest.approx(want)


def test_hard_targets_and_centerness_loss_by_hand():
    """The example of the test above with ``hard_targets`` (positive
    target 1) and centre-ness logits 1.0 at a0, -0.5 at a2 (the
    positives): BCE(x, c) = log(1 + e^x) - c x against the centre-ness c
    of each anchor centre in its box, over the 2 positives."""
    from mtlbox.models.heads.atss_det_head import atss_det_loss
    from mtlbox.models.losses import CIoULoss, IoUAwareFocalLoss
    from mtlbox.models.task_modules import SSDBoxCoder
    anchors = torch.tensor([[0., 0., 10., 10.], [10., 0., 20., 10.],
                            [20., 0., 30., 10.], [0., 0., 20., 20.],
                            [20., 0., 40., 20.]])
    gts = torch.tensor([[0., 0., 16., 10.], [22., 0., 32., 12.]])
    ctr = torch.tensor([[1.0, 3.0, -0.5, 2.0, 2.0]])  # only a0, a2 count
    out = atss_det_loss(torch.zeros(1, 5, 2), torch.zeros(1, 5, 4),
                        anchors, [3, 2], [gts], [torch.tensor([0, 1])],
                        [None], SSDBoxCoder(), IoUAwareFocalLoss(0.25, 2.),
                        CIoULoss(10.0), topk=2, centerness=ctr,
                        hard_targets=True)
    assert out.avg_factors['loss_centerness'] == 2.0
    ln2 = math.log(2)
    cls = (2 * 0.25 * 0.25 * ln2 + 8 * 0.75 * 0.25 * ln2) / 2
    assert out['loss_cls'].item() == pytest.approx(cls, rel=1e-5)

    def bce(x, c):
        return math.log(1 + math.exp(x)) - c * x

    want = (bce(1.0, math.sqrt(5 / 11)) +
            bce(-0.5, math.sqrt(3 / 7 * 5 / 7))) / 2
    assert out['loss_centerness'].item() == pytest.approx(want, rel=1e-5)


def test_centerness_head_scores_are_class_times_quality():
    """Zero features: every class probability is the prior 0.01, every
    centre-ness sigmoid(0) = 1/2, so every score is 0.005; the loss gains
    ``loss_centerness`` and the per-sample loss counts it."""
    head = make_head(centerness=True, score_thr=0.001, max_per_img=5).eval()
    cls, reg, ctr = head(feats())
    assert head.raw_output_names == ('cls', 'reg', 'ctr')
    assert [c.shape for c in ctr] == [(2, 3, 8, 8), (2, 3, 4, 4)]  # A = 3
    zeros = [torch.zeros(1, 8, 8, 8), torch.zeros(1, 8, 4, 4)]
    sample = make_sample([[4, 4, 30, 40]], [1])
    head.predict(zeros, [sample])
    assert sample.pred_instances.scores.tolist() == pytest.approx([0.005] * 5)
    f = feats()
    losses = head.loss([x[:1] for x in f], [sample])
    assert set(losses) == {'loss_cls', 'loss_bbox', 'loss_centerness'}
    per, _ = head.loss_by_sample([x[:1] for x in f], [sample])
    assert per[0].item() == pytest.approx(sum(losses.values()).item())


def test_group_norm_towers_and_norm_errors():
    head = make_head(norm_cfg=dict(type='GN', num_groups=4), num_convs=2)
    norms = [m for m in head.modules()
             if isinstance(m, (torch.nn.GroupNorm, torch.nn.BatchNorm2d))]
    assert len(norms) == 8 and all(
        isinstance(m, torch.nn.GroupNorm) and m.num_groups == 4
        for m in norms)  # 2 levels x 2 branches x 2 convs
    with pytest.raises(ValueError, match="type='GN', num_groups"):
        make_head(norm_cfg=dict(type='LN'))
    with pytest.raises(ValueError, match='do not split into 3 groups'):
        make_head(norm_cfg=dict(type='GN', num_groups=3))
    with pytest.raises(ValueError, match="block='conv'"):
        make_head(block='mbconv', norm_cfg=dict(type='GN', num_groups=4))


def test_centerness_raw_outputs_named_and_replayed():
    """Deployment: the quality branch travels as ``det.ctr.<level>`` and
    decoding the replayed raw outputs gives the head's own predictions."""
    from mtlbox.apis.raw_outputs import flatten_raw, replaying
    head = make_head(centerness=True, score_thr=0.0).eval()
    f = feats(batch=1, seed=3)
    named = flatten_raw('det', head(f), head)
    assert [n for n, _ in named] == [f'det.{m}.{lv}' for m in
                                     ('cls', 'reg', 'ctr') for lv in (0, 1)]
    direct, replayed = make_sample([], []), make_sample([], [])
    head.predict(f, [direct])
    with replaying(head, head(f)):
        head.predict(None, [replayed])
    assert torch.equal(direct.pred_instances.scores,
                       replayed.pred_instances.scores)
    assert len(direct.pred_instances) > 0
