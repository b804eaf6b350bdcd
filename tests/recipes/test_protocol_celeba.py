"""CelebA, 40 attributes (configs/celeba/): the reader of the official
files, its errors, the F1 metric on hand-counted cases, the network's
parameter count, and a recipe that trains two iterations with validation
and tests its checkpoint, on a tiny copy of the official layout written
here (not by mtlbox's fixture generator)."""
import math
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from . import recipe_runner as tools
from .test_protocol_nyuv2_segnet import build_model, count

CONFIG = 'configs/celeba/_base_/convnet_celeba.py'


def config_attributes():
    from mmengine.config import Config
    return tuple(Config.fromfile(osp.join(tools.ROOT, CONFIG)).attributes)


ATTRS = config_attributes()  # the tasks of the recipe, in file order


def write_celeba(root, partitions=(0, 0, 1, 2, 0, 0, 1, 2), seed=0):
    """``img_align_celeba/<nnnnnn>.jpg`` (smaller than the real 178x218,
    sizes mixed), ``Anno/list_attr_celeba.txt`` (count, names, rows of
    -1 / 1 aligned with runs of spaces as in the official file) and
    ``Eval/list_eval_partition.txt``. Returns {id: 0/1 vector}."""
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(root, 'img_align_celeba'))
    os.makedirs(osp.join(root, 'Anno'))
    os.makedirs(osp.join(root, 'Eval'))
    labels, rows, parts = {}, [], []
    for n, split in enumerate(partitions, 1):
        name = f'{n:06d}.jpg'
        h, w = (54, 44) if n % 2 else (60, 50)
        Image.fromarray(rng.integers(0, 255, (h, w, 3), np.uint8)).save(
            osp.join(root, 'img_align_celeba', name))
        labels[name] = rng.integers(0, 2, len(ATTRS))
        rows.append(name + ''.join(f' {v:2d}' for v in
                                   2 * labels[name] - 1))
        parts.append(f'{name} {split}')
    with open(osp.join(root, 'Anno', 'list_attr_celeba.txt'), 'w') as f:
        f.write(f'{len(rows)}\n' + ' '.join(ATTRS) + ' \n' +
                '\n'.join(rows) + '\n')
    with open(osp.join(root, 'Eval', 'list_eval_partition.txt'), 'w') as f:
        f.write('\n'.join(parts) + '\n')
    return labels


def dataset(root, **kwargs):
    from mtlbox.datasets import CelebADataset
    return CelebADataset(data_root=root, pipeline=[], **kwargs)


def test_reader_splits_and_labels(tmp_path):
    labels = write_celeba(str(tmp_path))
    train, val = dataset(str(tmp_path)), dataset(str(tmp_path), split='val')
    assert [d['img_id'] for d in train] == [
        '000001.jpg', '000002.jpg', '000005.jpg', '000006.jpg']
    assert [d['img_id'] for d in val] == ['000003.jpg', '000007.jpg']
    assert train[2]['gt_label'] == labels['000005.jpg'].tolist()
    assert train[0]['labeled_tasks'] == list(ATTRS)
    two = dataset(str(tmp_path), split='test',
                  attributes=['Young', 'Smiling'])
    assert two[1]['gt_label'] == [labels['000008.jpg'][39],
                                  labels['000008.jpg'][31]]


def test_reader_errors_name_the_file(tmp_path):
    from mtlbox.datasets import DatasetLayoutError
    root = str(tmp_path)
    write_celeba(root)
    attr = osp.join(root, 'Anno', 'list_attr_celeba.txt')
    with pytest.raises(KeyError, match='Smile'):
        dataset(root, attributes=['Smile'])
    text = open(attr).read().splitlines()
    text[3] = text[3].replace('-1', ' 0', 1)
    open(attr, 'w').write('\n'.join(text) + '\n')
    with pytest.raises(ValueError, match=r'list_attr_celeba.txt line 4: '):
        dataset(root)
    os.remove(attr)
    with pytest.raises(DatasetLayoutError, match=(
            r'Anno/list_attr_celeba.txt not found.*#celeba '
            r'\(make a sample layout with tools/data/make_fixture.py celeba')):
        dataset(root)


def test_f1_on_hand_counted_cases():
    from mtlbox.evaluation import binary_f1
    # tp 3, fp 1, fn 2: P = 3/4, R = 3/5, F1 = 2 * 0.45 / 1.35 = 2/3
    # no positive predicted nor present: 0; perfect: 1
    f1 = binary_f1([3, 0, 5], [1, 0, 0], [2, 0, 0])
    np.testing.assert_allclose(f1, [2 / 3, 0.0, 1.0], atol=1e-7)


def test_f1_metric_counts_over_the_split():
    import torch

    from mtlbox.evaluation import BinaryF1Metric
    metric = BinaryF1Metric(task='Smiling', label_index=1)
    # (prediction, ground truth of entry 1): tp 2, fp 1, fn 1, tn 1
    # P = 2/3, R = 2/3, F1 = 2/3
    for pred, gt in ((1, 1), (1, 1), (1, 0), (0, 1), (0, 0)):
        metric.process({}, [{
            'gt_label': {'label': torch.tensor([0, gt, 1])},
            'pred_label_Smiling': {'label': torch.tensor([pred])}}])
    out = metric.evaluate(5)
    assert out == {'Smiling/f1': pytest.approx(2 / 3, abs=1e-7)}


def test_binary_head_is_one_logit_with_bce():
    import torch
    from mmengine.structures import LabelData

    from mtlbox.models import BinaryClsHead
    from mtlbox.structures import MTLDataSample
    head = BinaryClsHead(in_channels=4, label_index=2)
    head.task = 'Young'
    assert sum(p.numel() for p in head.parameters()) == 5
    with torch.no_grad():
        head.fc.weight.copy_(torch.tensor([[1.0, -1.0, 0.5, 0.0]]))
        head.fc.bias.fill_(0.25)
    feats = [torch.tensor([[1.0, 0.0, 2.0, 3.0],
                           [0.0, 2.0, 0.0, 1.0]])[:, :, None, None]]
    samples = []
    for label in ([0, 0, 1], [1, 1, 0]):
        sample = MTLDataSample(metainfo=dict(labeled_tasks=['Young']))
        sample.gt_label = LabelData(label=torch.tensor(label))
        samples.append(sample)
    # logits 1 + 1 + 0.25 = 2.25 (label 1) and -2 + 0.25 = -1.75 (label 0)
    expected = (math.log(1 + math.exp(-2.25)) +
                math.log(1 + math.exp(-1.75))) / 2
    loss = head.loss(feats, samples)['loss_bce']
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    head.predict(feats, samples)
    assert samples[0].pred_label_Young.label.tolist() == [1]
    assert samples[1].pred_label_Young.label.tolist() == [0]
    assert samples[0].pred_label_Young.score.item() == pytest.approx(
        1 / (1 + math.exp(-2.25)))


def test_the_recipe_and_the_published_baselines_agree_on_the_tasks():
    from mtlbox.datasets.celeba import CELEBA_ATTRIBUTES
    from mtlbox.evaluation.baselines import PUBLISHED_BASELINES
    assert len(ATTRS) == 40 and ATTRS == CELEBA_ATTRIBUTES
    assert list(PUBLISHED_BASELINES['celeba_famo']) == [
        f'{a}/f1' for a in ATTRS]
    assert PUBLISHED_BASELINES['celeba_famo']['Smiling/f1'] == 0.9241


def test_network_parameter_count():
    model = build_model('configs/celeba/ew_convnet.py')
    convs = 9 * (3 * 64 + 64 * 128 + 128 * 128 + 128 * 256 + 256 * 256 +
                 256 * 512 + 512 * 512)
    bns = 2 * (64 + 2 * 128 + 2 * 256 + 2 * 512) + 2 * 2 * 512
    linears = 2 * 512 * 512
    assert count(model.backbone) == convs + bns + linears == 5_176_640
    assert count(model) == 5_176_640 + 40 * 513 == 5_197_160
    assert len(model.tasks) == 40 and model.tasks[-1] == 'Young'


def test_celeba_recipe_two_iterations(tmp_path):
    config = 'configs/celeba/famo_convnet.py'
    root = str(tmp_path / 'celeba')
    write_celeba(root)
    o = {'train_cfg.max_epochs': 1, 'default_hooks.logger.interval': 1}
    for name in ('train', 'val', 'test'):
        o.update({f'{name}_dataloader.batch_size': 2,
                  f'{name}_dataloader.num_workers': 0,
                  f'{name}_dataloader.persistent_workers': False,
                  f'{name}_dataloader.dataset.data_root': root})
    work = str(tmp_path / 'work')
    tools.train(config, work, o)
    ckpt = osp.join(work, 'epoch_1.pth')
    assert tools.checkpoint_meta(ckpt)['iter'] == 2
    metrics = tools.test(config, ckpt, str(tmp_path / 'test_work'),
                         str(tmp_path / 'metrics.json'),
                         str(tmp_path / 'show'), o)
    from mtlbox.evaluation.baselines import CELEBA_STL_F1
    f1 = [metrics[f'{a}/f1'] for a in ATTRS]
    assert all(0.0 <= v <= 1.0 for v in f1)
    assert metrics['mtl/mean_f1'] == pytest.approx(np.mean(f1))
    paper = -100 * np.mean([(v - b) / b for v, b in zip(f1, CELEBA_STL_F1)])
    assert math.isfinite(metrics['mtl/delta_m_paper'])
    assert metrics['mtl/delta_m_paper'] == pytest.approx(paper, abs=1e-6)
