"""compare_runs.py for the literature protocols: Delta_m in both sign
conventions (recomputing a published row), last-k-epoch averages of a work
dir, mean +- std over seeds; and the one baselines reader."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis'))

NYU_KEYS = ['seg/mIoU', 'seg/aAcc', 'depth/abs_err', 'depth/abs_rel',
            'normal/mean', 'normal/median', 'normal/11.25', 'normal/22.5',
            'normal/30']
# Nash-MTL (Navon et al. ICML 2022), Table 2, NYUv2 row of Nash-MTL
NASH_MTL_ROW = [0.4013, 0.6593, 0.5261, 0.2171, 25.26, 20.08, 0.2840,
                0.5547, 0.6815]
# relative changes (M - B) / B, each signed so that better is positive,
# worked out by hand from the row and the baselines
# [0.3830, 0.6376, 0.6754, 0.2780, 25.01, 19.21, 0.3014, 0.5720, 0.6915]
HAND_TERMS = [0.0183 / 0.3830, 0.0217 / 0.6376, 0.1493 / 0.6754,
              0.0609 / 0.2780, -0.25 / 25.01, -0.87 / 19.21,
              -0.0174 / 0.3014, -0.0173 / 0.5720, -0.0100 / 0.6915]


def nash_results():
    return dict(zip(NYU_KEYS, NASH_MTL_ROW))


def test_delta_m_of_the_published_nash_mtl_nyuv2_row():
    from mtlbox.evaluation import delta_m, load_baselines
    base = load_baselines('published:nyuv2_segnet_mtan')
    assert list(base) == NYU_KEYS
    d = delta_m(nash_results(), base)
    assert d['used'] == NYU_KEYS
    # the papers' number: metric average, lower is better; Nash-MTL prints
    # -4.04 (from unrounded metrics), the rounded row gives -4.05
    assert round(d['metric_avg_lower_better'], 2) == -4.05
    assert d['metric_avg_lower_better'] == pytest.approx(-4.04, abs=0.01)
    assert d['metric_avg_lower_better'] == pytest.approx(
        -100 * sum(HAND_TERMS) / 9, abs=1e-9)
    assert d['metric_avg'] == pytest.approx(100 * sum(HAND_TERMS) / 9)
    # mtlbox's own: per task first (seg 2, depth 2, normal 5 metrics)
    task = (sum(HAND_TERMS[:2]) / 2 + sum(HAND_TERMS[2:4]) / 2 +
            sum(HAND_TERMS[4:]) / 5) / 3
    assert d['task_avg'] == pytest.approx(100 * task)
    assert round(d['task_avg'], 2) == 7.65


def test_table_prints_the_paper_column_with_seeds():
    from compare_runs import table
    from mtlbox.evaluation import load_baselines
    base = load_baselines('published:nyuv2_segnet_mtan')
    seed2 = dict(nash_results(), **{'seg/mIoU': 0.4013 + 0.00383})
    header, rows = table({'nash_mtl': [nash_results(), seed2]}, NYU_KEYS,
                         base)
    assert header[-1] == 'delta_m paper (metric avg, lower better, %)'
    assert rows[0][1] == '2'
    assert rows[0][2] == '0.4032 ± 0.0027'
    # seed 2 improves mIoU by 1% of the baseline: 1/9 % better delta_m
    first = -100 * sum(HAND_TERMS) / 9
    mean, std = first - 0.5 / 9, (1 / 9) / 2 ** 0.5
    assert rows[0][-1] == f'{mean:.4f} ± {std:.4f}'


def write_work_dir(root, runs):
    """mmengine's ``<timestamp>/vis_data/scalars.json``: training rows (with
    ``lr``), BalancerHook rows (``balancer/<task>``) and validation rows;
    ``runs`` is a list (one per timestamp, e.g. a resume) of validation
    rows ``(epoch, {key: value})``."""
    for n, rows in enumerate(runs):
        path = osp.join(root, f'2026120{n}_000000', 'vis_data',
                        'scalars.json')
        os.makedirs(osp.dirname(path))
        with open(path, 'w') as f:
            for epoch, metrics in rows:
                f.write(json.dumps({'lr': 1e-4, 'loss': 1.0, 'seg.loss_ce':
                                    1.0, 'epoch': epoch, 'step': epoch}) +
                        '\n')
                f.write(json.dumps({'balancer/seg': 0.5, 'step': epoch}) +
                        '\n')
                f.write(json.dumps(dict(metrics, data_time=0.1, time=0.2,
                                        step=epoch)) + '\n')


def test_last_k_average_of_a_resumed_work_dir(tmp_path):
    from compare_runs import load_run
    # epochs 1..4, then a resume that re-validates epoch 4 and adds 5, 6
    first = [(e, {'seg/mIoU': 0.1 * e, 'depth/abs_err': 1.0})
             for e in range(1, 5)]
    second = [(4, {'seg/mIoU': 0.45, 'depth/abs_err': 1.0}),
              (5, {'seg/mIoU': 0.5, 'depth/abs_err': 2.0}),
              (6, {'seg/mIoU': 0.6, 'depth/abs_err': 3.0})]
    write_work_dir(str(tmp_path), [first, second])
    last3 = load_run(str(tmp_path), last_k=3)
    assert last3['seg/mIoU'] == pytest.approx((0.45 + 0.5 + 0.6) / 3)
    assert last3['depth/abs_err'] == pytest.approx(2.0)
    assert 'balancer/seg' not in last3
    assert load_run(str(tmp_path))['seg/mIoU'] == pytest.approx(0.6)
    # more epochs asked than run: all six, with a warning
    assert load_run(str(tmp_path), last_k=10)['seg/mIoU'] == pytest.approx(
        (0.1 + 0.2 + 0.3 + 0.45 + 0.5 + 0.6) / 6)


def test_cli_paper_table_over_two_seeds(tmp_path):
    rows = []
    for seed, shift in ((0, 0.0), (1, 0.02)):
        vals = {k: v for k, v in nash_results().items()}
        epochs = [(e, dict(vals, **{'seg/mIoU': vals['seg/mIoU'] + shift +
                                    0.001 * (e - 15)})) for e in range(1, 21)]
        write_work_dir(str(tmp_path / f's{seed}'), [epochs])
        rows.append(epochs)
    proc = subprocess.run(
        [sys.executable, 'tools/analysis/compare_runs.py',
         f'nash={tmp_path / "s0"}', f'nash={tmp_path / "s1"}',
         '--last-k', '10', '--baselines', 'published:nyuv2_segnet_mtan'],
        cwd=ROOT, check=True, capture_output=True, text=True)
    header, _, row = proc.stdout.strip().splitlines()
    cells = [c.strip() for c in row.strip('|').split('|')]
    assert header.split('|')[3].strip() == 'seg/mIoU'  # paper order
    # last 10 epochs (11..20): mean offset 0.001 * 0.5 = 0.0005
    assert cells[2] == f'{0.4013 + 0.0005 + 0.01:.4f} ± {0.02 / 2 ** .5:.4f}'
    assert cells[1] == '2'


def test_one_baselines_reader(tmp_path):
    from collect_baselines import collect
    from mtlbox.evaluation.baselines import load_baselines, merge_metrics
    a, b = tmp_path / 'a.json', tmp_path / 'b.json'
    a.write_text(json.dumps({'seg/mIoU': 0.5, 'mtl/delta_m': 3.0,
                             'note': 'x'}))
    b.write_text(json.dumps({'depth/abs_err': 0.4}))
    both = {'seg/mIoU': 0.5, 'depth/abs_err': 0.4}
    assert collect([str(a), str(b)]) == both
    assert load_baselines([str(a), str(b)]) == both
    with pytest.raises(ValueError, match='seg/mIoU is reported by both'):
        load_baselines([str(a), str(a)])
    assert merge_metrics([str(a), str(a)], allow_duplicates=True) == {
        'seg/mIoU': 0.5}
    with pytest.raises(KeyError, match='nyuv2_segnet_mtan'):
        load_baselines('published:nyuv2')
    (tmp_path / 'bad.json').write_text('{oops')
    with pytest.raises(ValueError, match='bad.json is not JSON'):
        collect([str(tmp_path / 'bad.json')])
