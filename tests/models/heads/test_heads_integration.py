"""A det + seg + depth MultiTaskModel on SynthScenes learns and predicts."""
import torch
from mmengine.dataset import pseudo_collate

import mtlbox
from tests.models.heads.synth_model import synth_model

mtlbox.register_all_modules()


def build(tasks=('det', 'seg', 'depth'), label_groups=None, n=4):
    return synth_model(tasks, n=n, label_groups=label_groups)


def test_det_seg_depth_model_overfits_and_predicts():
    torch.manual_seed(0)
    dataset, model = build()
    batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
    optim = torch.optim.AdamW(model.parameters(), lr=2e-3)
    first = last = None
    for step in range(25):
        data = model.data_preprocessor(batch, True)
        losses = model.loss(data['inputs'], data['data_samples'])
        per_task = model.task_losses(losses)
        total = sum(per_task.values())
        optim.zero_grad()
        total.backward()
        optim.step()
        values = {t: v.item() for t, v in per_task.items()}
        first = first or values
        last = values
    assert set(first) == {'det', 'seg', 'depth'}
    for task in first:  # every task's loss falls
        assert last[task] < 0.8 * first[task], (task, first, last)

    model.eval()
    batch = pseudo_collate([dataset[i] for i in range(2)])
    with torch.no_grad():
        out = model.test_step(batch)
    for s in out:
        assert s.pred_sem_seg.data.shape == (1, 64, 64)
        assert s.pred_depth.data.shape == (1, 64, 64)
        p = s.pred_instances
        assert p.bboxes.ndim == 2 and p.bboxes.shape[1] == 4
        assert p.scores.shape == p.labels.shape == (len(p.bboxes),)
        assert 0 < len(p.bboxes) <= 200
        assert p.bboxes.min() >= 0 and p.bboxes.max() <= 64


def test_partially_labelled_batch_skips_unlabelled_tasks():
    dataset, model = build(label_groups=[['det'], ['seg', 'depth']], n=2)
    batch = pseudo_collate([dataset[0]])  # labelled for det only
    data = model.data_preprocessor(batch, True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert {k.split('.')[0] for k in losses} == {'det'}
