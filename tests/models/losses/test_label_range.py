"""Labels outside ``num_classes`` are reported where they meet the loss,
naming the head's task, the value, the file and ``num_classes`` (issue #14);
the ignore index (255) is never an error."""
import pytest
import torch
from mmengine.structures import PixelData

from mtlbox.models.heads import PartsHead, SegHead
from mtlbox.models.losses import BalancedBCELoss, CrossEntropyLoss
from mtlbox.structures import MTLDataSample


def feats(batch=2, ch=4):
    g = torch.Generator().manual_seed(0)
    return [torch.randn(batch, ch, 4, 4, generator=g)]


def sample(field, label_map, task, path):
    s = MTLDataSample(metainfo=dict(labeled_tasks=[task], img_path=path,
                                    img_shape=(8, 8), ori_shape=(8, 8),
                                    batch_input_shape=(8, 8)))
    setattr(s, field, PixelData(data=label_map[None]))
    return s


def test_cross_entropy_names_value_and_classes():
    logits = torch.zeros(1, 5, 2, 3)
    target = torch.tensor([[[0, 1, 255], [7, 4, 2]]])
    with pytest.raises(ValueError) as err:
        CrossEntropyLoss()(logits, target)
    msg = str(err.value)
    assert 'label 7' in msg and '5 classes' in msg and '0..4' in msg
    with pytest.raises(ValueError, match='label -3'):
        CrossEntropyLoss()(torch.zeros(2, 3), torch.tensor([1, -3]))


def test_cross_entropy_ignore_is_not_an_error():
    logits = torch.zeros(1, 4, 2, 2)
    target = torch.tensor([[[0, 255], [3, 255]]])
    # uniform logits: -log(1/4) over the two labelled pixels
    assert CrossEntropyLoss()(logits, target).item() == pytest.approx(
        torch.log(torch.tensor(4.0)).item())
    # classification with the -100 ignore of ClsHead
    cls = CrossEntropyLoss(ignore_index=-100)
    assert cls(torch.zeros(2, 3), torch.tensor([2, -100])).item() == \
        pytest.approx(torch.log(torch.tensor(3.0)).item())


@pytest.mark.parametrize('head_cls,field,task',
                         [(SegHead, 'gt_sem_seg', 'seg'),
                          (PartsHead, 'gt_parts', 'parts')])
def test_dense_head_names_task_file_and_num_classes(head_cls, field, task):
    head = head_cls([4], num_classes=5, channels=4)
    head.task = task
    good = torch.full((8, 8), 255, dtype=torch.long)
    good[:4] = 3
    bad = good.clone()
    bad[6, 6] = 7
    samples = [sample(field, good, task, '/data/a.png'),
               sample(field, bad, task, '/data/b.jpg')]
    for call in (head.loss, head.loss_by_sample):
        with pytest.raises(ValueError) as err:
            call(feats(), samples)
        msg = str(err.value)
        assert f"task '{task}'" in msg and 'label 7' in msg
        assert '/data/b.jpg' in msg and 'num_classes=5' in msg
        assert '/data/a.png' not in msg
    # 255 borders and in-range labels train
    loss = head.loss(feats(), samples[:1])
    assert torch.isfinite(next(iter(loss.values())))


def test_binary_losses_reject_non_binary_targets():
    logits = torch.zeros(1, 1, 2, 2)
    ok = torch.tensor([[[0, 1], [255, 1]]])
    assert torch.isfinite(BalancedBCELoss()(logits, ok))
    with pytest.raises(ValueError, match='value 3'):
        BalancedBCELoss()(logits, torch.tensor([[[0, 3], [255, 1]]]))
