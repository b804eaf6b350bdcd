import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tools', 'analysis'))


def _write_scalars(work_dir):
    run = work_dir / '20260101_000000' / 'vis_data'
    run.mkdir(parents=True)
    rows = [
        {'iter': 1, 'loss': 3.0, 'seg.loss_ce': 2.0, 'depth.loss_l1': 1.0,
         'seg.weight': 1.0, 'depth.weight': 1.0, 'lr': 0.1, 'step': 1},
        {'iter': 2, 'loss': 2.0, 'seg.loss_ce': 1.2, 'depth.loss_l1': 0.8,
         'seg.weight': 0.5, 'depth.weight': 1.5, 'lr': 0.1, 'step': 2},
        {'seg/mIoU': 0.4, 'depth/abs_rel': 0.3, 'step': 1},
    ]
    (run / 'scalars.json').write_text('\n'.join(json.dumps(r) for r in rows))


def test_plot_curves_reads_series_and_writes_png(tmp_path):
    from plot_curves import find_scalars, read_scalars
    _write_scalars(tmp_path)
    train, val = read_scalars(find_scalars(str(tmp_path)))
    assert train['seg.loss_ce'] == [(1, 2.0), (2, 1.2)]
    assert train['depth.weight'] == [(1, 1.0), (2, 1.5)]
    assert 'lr' not in train
    assert val['seg/mIoU'] == [(1, 0.4)]
    out = tmp_path / 'c.png'
    subprocess.run([sys.executable, 'tools/analysis/plot_curves.py',
                    str(tmp_path), '--out', str(out)], cwd=ROOT, check=True,
                   capture_output=True)
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_plot_curves_missing_run_names_path(tmp_path):
    from plot_curves import find_scalars
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        find_scalars(str(tmp_path))


def test_print_config_resolves_bases():
    out = subprocess.run(
        [sys.executable, 'tools/analysis/print_config.py',
         'configs/synth/hps_r18_ew_synth.py', '--check'], cwd=ROOT,
        check=True, capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=ROOT)).stdout
    assert "type='MultiTaskModel'" in out and "type='SynthScenes'" in out


def test_collect_baselines_merges_and_prints_potentials(tmp_path):
    (tmp_path / 'seg.json').write_text(json.dumps(
        {'seg/mIoU': 0.5, 'seg/aAcc': 0.8}))
    (tmp_path / 'depth.json').write_text(json.dumps(
        {'depth/delta1': 0.9, 'depth/abs_rel': 0.1}))
    out = tmp_path / 'b.json'
    proc = subprocess.run(
        [sys.executable, 'tools/analysis/collect_baselines.py',
         str(tmp_path / 'seg.json'), str(tmp_path / 'depth.json'), '--out',
         str(out), '--metric-keys', 'seg=seg/mIoU', 'depth=depth/delta1'],
        cwd=ROOT, check=True, capture_output=True, text=True)
    assert json.loads(out.read_text()) == {
        'seg/mIoU': 0.5, 'seg/aAcc': 0.8, 'depth/delta1': 0.9,
        'depth/abs_rel': 0.1}
    assert "potentials={'seg': 0.5, 'depth': 0.9}" in proc.stdout


def test_collect_baselines_rejects_duplicate_keys(tmp_path):
    from collect_baselines import collect
    for name in ('a', 'b'):
        (tmp_path / f'{name}.json').write_text(json.dumps({'seg/mIoU': 0.5}))
    with pytest.raises(ValueError, match='seg/mIoU is reported by both'):
        collect([str(tmp_path / 'a.json'), str(tmp_path / 'b.json')])


def test_compare_runs_table_with_seeds_and_delta_m(tmp_path):
    from compare_runs import render, table
    runs = {'ew': [{'seg/mIoU': 0.5, 'depth/abs_rel': 0.2},
                   {'seg/mIoU': 0.7, 'depth/abs_rel': 0.2}]}
    baselines = {'seg/mIoU': 0.5, 'depth/abs_rel': 0.25}
    header, rows = table(runs, ['seg/mIoU', 'depth/abs_rel'], baselines)
    # seed 1: seg +0%, depth +20% -> task avg 10%; seed 2: +40%, +20% -> 30%
    assert rows[0][:4] == ['ew', '2', '0.6000 ± 0.1414', '0.2000 ± 0.0000']
    assert rows[0][4] == '20.0000 ± 14.1421'
    md = render(header, rows, 'md')
    assert md.splitlines()[0].startswith('| run | n | seg/mIoU')
    assert render(header, rows, 'csv').splitlines()[1].startswith('ew,2,')


def test_grad_conflict_cosines_match_autograd():
    import torch
    from mtlbox.engine.hooks.grad_conflict_hook import task_cosines

    from tests.models.test_multitask_model import batch, tiny_model
    model = tiny_model()
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()
    model.train = lambda mode=True: model  # keep BN frozen
    data = batch([['seg', 'depth', 'normal']] * 2)
    cos = task_cosines(model, [copy_batch(data)])
    d = model.data_preprocessor(copy_batch(data), True)
    losses = model.task_losses(model.loss(d['inputs'], d['data_samples']))
    shared = model.shared_parameters()
    rows = [torch.cat([g.flatten() for g in torch.autograd.grad(
        losses[t], shared, retain_graph=True)]) for t in model.tasks]
    for i in range(3):
        for j in range(3):
            a, b = rows[i].double(), rows[j].double()
            expected = (a @ b) / (a.norm() * b.norm())
            assert abs(cos[i, j] - expected) < 1e-4


def copy_batch(data):
    import copy
    return copy.deepcopy(data)
