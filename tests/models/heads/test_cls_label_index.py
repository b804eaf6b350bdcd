"""ClsHead / ClsMetric ``label_index`` (one entry of a shared label
vector), RegressionHead / RegressionMetric and the small backbones, with
numbers worked out by hand."""
import math

import pytest
import torch
from mmengine.structures import LabelData

from mtlbox.evaluation.metrics import ClsMetric, RegressionMetric
from mtlbox.models.backbones import MLP, SmallConvNet
from mtlbox.models.heads import ClsHead, RegressionHead
from mtlbox.structures import MTLDataSample


def sample(label, tasks, values=None):
    s = MTLDataSample(metainfo=dict(labeled_tasks=list(tasks)))
    if values is not None:
        s.gt_label = LabelData(values=torch.tensor(values))
    else:
        s.gt_label = LabelData(label=torch.tensor(label))
    return s


def fixed_head(task, num_classes, **kw):
    """A head whose logits are the pooled feature itself (fc = identity)."""
    head = ClsHead(in_channels=num_classes, num_classes=num_classes, **kw)
    head.task = task
    with torch.no_grad():
        head.fc.weight.copy_(torch.eye(num_classes))
        head.fc.bias.zero_()
    return head


def feats_of(rows):
    return [torch.tensor(rows, dtype=torch.float32)[..., None, None]]


def ce(logits, target):
    return -logits[target] + math.log(sum(math.exp(v) for v in logits))


def test_label_index_picks_the_entry():
    logits = [[2.0, 0.0, 1.0], [0.0, 3.0, 0.0]]
    # gt_label = [left, right]; the head of 'right' reads entry 1
    samples = [sample([0, 2], ['left', 'right']),
               sample([1, 1], ['left', 'right'])]
    right = fixed_head('right', 3, label_index=1)
    left = fixed_head('left', 3, label_index=0)
    want_r = (ce(logits[0], 2) + ce(logits[1], 1)) / 2
    want_l = (ce(logits[0], 0) + ce(logits[1], 1)) / 2
    assert right.loss(feats_of(logits), samples)['loss_ce'].item() == \
        pytest.approx(want_r, rel=1e-6)
    assert left.loss(feats_of(logits), samples)['loss_ce'].item() == \
        pytest.approx(want_l, rel=1e-6)
    losses, mask = right.loss_by_sample(feats_of(logits), samples)
    assert mask.tolist() == [True, True]
    assert losses.tolist() == pytest.approx(
        [ce(logits[0], 2), ce(logits[1], 1)], rel=1e-6)


def test_binary_one_vs_rest_and_unlabelled_samples():
    # 10 one-vs-rest 0/1 labels; task 'cat' = entry 3, two classes
    onehot_cat = [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    onehot_dog = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    samples = [sample(onehot_cat, ['cat', 'dog']),
               sample(onehot_dog, ['cat', 'dog']),
               sample(onehot_cat, ['dog'])]  # not labelled for 'cat'
    head = fixed_head('cat', 2, label_index=3)
    logits = [[0.5, 1.5], [1.0, -1.0], [9.0, -9.0]]
    want = (ce(logits[0], 1) + ce(logits[1], 0)) / 2
    assert head.loss(feats_of(logits), samples)['loss_ce'].item() == \
        pytest.approx(want, rel=1e-6)
    losses, mask = head.loss_by_sample(feats_of(logits), samples)
    assert mask.tolist() == [True, True, False] and losses[2] == 0


def test_label_index_out_of_range_names_the_task():
    head = fixed_head('right', 3, label_index=2)
    with pytest.raises(IndexError, match="'right'.*label_index=2"):
        head.loss(feats_of([[0.0, 0.0, 0.0]]),
                  [sample([1, 2], ['right'])])
    with pytest.raises(ValueError, match='multi_label'):
        ClsHead(in_channels=4, num_classes=4, multi_label=True,
                label_index=0)


def test_predictions_per_task_and_metric():
    logits = [[0.0, 5.0, 0.0], [4.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    samples = [sample([1, 0], ['left', 'right']),
               sample([0, 2], ['left', 'right']),
               sample([0, 2], ['left', 'right'])]
    left = fixed_head('left', 3, label_index=0)
    right = fixed_head('right', 3, label_index=1)
    right.fc.weight.data = torch.eye(3).flip(0)  # reversed logits
    left.predict(feats_of(logits), samples)
    right.predict(feats_of(logits), samples)
    # left: argmax 1, 0, 2; right (reversed logits): argmax 1, 2, 0
    assert [s.pred_label_left.label.item() for s in samples] == [1, 0, 2]
    assert [s.pred_label_right.label.item() for s in samples] == [1, 2, 0]
    results = {}
    for task, index in (('left', 0), ('right', 1)):
        metric = ClsMetric(task=task, label_index=index, num_classes=3)
        metric.process({}, [s.to_dict() for s in samples])
        results.update(metric.evaluate(3))
    # left: gt 1, 0, 0 vs 1, 0, 2 -> 2/3; classes 0: 1/2, 1: 1/1
    assert results['left/top1'] == pytest.approx(2 / 3)
    assert results['left/mean_class_acc'] == pytest.approx(0.75)
    # right: gt 0, 2, 2 vs 1, 2, 0 -> 1/3; classes 0: 0, 2: 1/2
    assert results['right/top1'] == pytest.approx(1 / 3)
    assert results['right/mean_class_acc'] == pytest.approx(0.25)


def test_cls_metric_label_key_and_unlabelled():
    s1 = sample([1, 0], ['cls'])
    s1.pred_label = LabelData(label=torch.tensor([0]))
    s2 = sample([1, 0], ['other'])
    s2.pred_label = LabelData(label=torch.tensor([1]))
    metric = ClsMetric(task='right', label_key='cls', label_index=1,
                       num_classes=2)
    metric.process({}, [s1.to_dict(), s2.to_dict()])
    assert metric.evaluate(2)['right/top1'] == 1.0  # s2 not counted


def test_regression_head_and_metric_by_hand():
    head = RegressionHead(in_channels=2, out_dim=2, label_index=1)
    head.task = 'aux'
    with torch.no_grad():
        head.tower[0].weight.copy_(torch.eye(2))
        head.tower[0].bias.zero_()
    feats = [torch.tensor([[1.0, 2.0], [0.0, 0.0]])]
    samples = [sample(None, ['main', 'aux'],
                      values=[[9.0, 9.0], [1.0, 4.0]]),
               sample(None, ['main'], values=[[0.0, 0.0], [5.0, 5.0]])]
    # only sample 0 is labelled for 'aux': ((1-1)^2 + (2-4)^2) / 2 = 2
    assert head.loss(feats, samples)['loss_mse'].item() == pytest.approx(2)
    losses, mask = head.loss_by_sample(feats, samples)
    assert losses.tolist() == [2.0, 0.0] and mask.tolist() == [True, False]
    head.predict(feats, samples)
    metric = RegressionMetric(task='aux', label_index=1)
    metric.process({}, [s.to_dict() for s in samples])
    out = metric.evaluate(2)
    assert out['aux/mse'] == pytest.approx(2.0)
    assert out['aux/mae'] == pytest.approx(1.0)
    assert out['aux/rmse'] == pytest.approx(math.sqrt(2))


def test_small_backbones_shapes():
    net = SmallConvNet(in_channels=1)
    out = net(torch.zeros(2, 1, 28, 28))
    assert len(out) == 1 and out[0].shape == (2, 50, 1, 1)
    assert net.out_channels == [50]
    conv = SmallConvNet(in_channels=1, fc_channels=None)
    assert conv(torch.zeros(1, 1, 28, 28))[0].shape == (1, 20, 4, 4)
    with pytest.raises(ValueError, match=r'in_channels=1\) got a 3-channel'):
        net(torch.zeros(1, 3, 28, 28))
    mlp = MLP(in_dim=5, hidden=(4, 3))
    out = mlp([torch.zeros(5), torch.ones(5)])  # pseudo_collate'd list
    assert out[0].shape == (2, 3) and mlp.out_channels == [3]


def test_label_beyond_num_classes_names_task_file_and_value():
    """Issue #14: a label >= num_classes is reported by the head, not as
    torch's bare ``IndexError: Target 7 is out of bounds``."""
    head = fixed_head('Art', 5)
    good = sample([3], ['Art'])
    bad = sample([7], ['Art'])
    bad.set_metainfo(dict(img_path='/data/Art/mug/0001.jpg'))
    rows = [[0.0] * 5, [0.0] * 5]
    for call in (head.loss, head.loss_by_sample):
        with pytest.raises(ValueError) as err:
            call(feats_of(rows), [good, bad])
        msg = str(err.value)
        assert "task 'Art'" in msg and 'label 7' in msg
        assert '/data/Art/mug/0001.jpg' in msg and 'num_classes=5' in msg
    multi = ClsHead(in_channels=5, num_classes=5, multi_label=True)
    multi.task = 'tags'
    with pytest.raises(ValueError,
                       match="task 'tags'.*label 9.*num_classes=5"):
        multi.loss(feats_of(rows[:1]),
                   [sample([1, 9], ['tags'])])
    # in range: the usual loss, -log(1/5)
    assert head.loss(feats_of(rows[:1]), [good])['loss_ce'].item() == \
        pytest.approx(math.log(5), rel=1e-6)
