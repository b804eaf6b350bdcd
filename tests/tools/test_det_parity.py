"""Smoke test of tools/benchmark/det_parity.py (tiny images, 2 iterations)."""
import math
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tools', 'benchmark'))

import det_parity  # noqa: E402


def test_prints_one_row_per_evaluation_point(capsys):
    results = det_parity.main([
        '--iters', '2', '--eval-at', '0', '2', '--batch-size', '2',
        '--img-size', '32', '48', '--train-size', '4', '--val-size', '2',
        '--log-every', '1'])
    out = capsys.readouterr().out.splitlines()
    rows = [line for line in out if line.startswith('| ')]
    assert rows[0] == ('| iter | atss AP50 | atss_mmdet AP50 | fcos AP50 | '
                       'retinanet AP50 | atss AP | atss_mmdet AP | fcos AP | '
                       'retinanet AP |')
    assert [r.split(' | ')[0] for r in rows[2:]] == ['| 0', '| 2']
    for row in rows[2:]:
        cells = [float(c) for c in row.strip('| ').split(' | ')[1:]]
        assert len(cells) == 8 and all(-1 <= c <= 1 for c in cells)
    assert list(results) == ['atss', 'atss_mmdet', 'fcos', 'retinanet']
    for res in results.values():
        assert sorted(res['curve']) == [0, 2]
        # every detector logged its losses at both iterations
        assert sorted(res['losses']) == [0, 1]


def test_schedule_and_batches_by_hand():
    # warm-up starts at 0.1 x; at the end of warm-up the cosine factor of
    # iteration 10 of 100: (1e-5 + (1e-3 - 1e-5) (1 + cos(pi / 10)) / 2) / 1e-3
    assert math.isclose(det_parity.lr_factor(0, 100, 10, 1e-3), 0.1)
    expected = (1e-5 + (1e-3 - 1e-5) * (1 + math.cos(math.pi / 10)) / 2) / 1e-3
    assert math.isclose(det_parity.lr_factor(10, 100, 10, 1e-3), expected)
    assert math.isclose(det_parity.lr_factor(100, 100, 10, 1e-3), 1e-2)
    orders = det_parity.batch_orders(5, 2, 5, seed=0)
    assert [len(b) for b in orders] == [2] * 5
    flat = sum(orders, [])
    assert sorted(flat[:5]) == list(range(5))  # one epoch = every scene once
    assert orders == det_parity.batch_orders(5, 2, 5, seed=0)


def test_seeds_stop_at_and_the_mean_table(capsys):
    """--stop-at trains to that iteration on the schedule of --iters;
    --seeds runs each seed and adds mean +- std rows computed from them."""
    runs = det_parity.main([
        '--iters', '4', '--stop-at', '1', '--eval-at', '0', '1', '4',
        '--batch-size', '2', '--img-size', '32', '48', '--train-size', '4',
        '--val-size', '2', '--detectors', 'atss', '--seeds', '0', '1'])
    assert list(runs) == [0, 1]
    for res in runs.values():
        assert sorted(res['atss']['curve']) == [0, 1]  # 4 is past the stop
        assert sorted(res['atss']['losses']) == [0]
    out = capsys.readouterr().out
    assert '(stopped at 1)' in out
    mean = out.split('## mean +- std over seeds [0, 1]')[1].splitlines()
    row = [r for r in mean if r.startswith('| 1 |')][0]
    ap50 = [runs[s]['atss']['curve'][1]['AP50'] for s in (0, 1)]
    mean_cell = row.split(' | ')[1]
    assert mean_cell == (f'{sum(ap50) / 2:.3f} +- '
                         f'{abs(ap50[0] - ap50[1]) / 2:.3f}')


def test_atss_mmdet_is_the_twin_head_with_the_recipe():
    import torch
    det_parity.register_all_modules()
    trunk = det_parity.Trunk().state_dict()
    plain = det_parity.build_detector('atss', trunk, (32, 48)).model
    mmdet = det_parity.build_detector('atss_mmdet', trunk, (32, 48),
                                      dict(num_convs=2)).model
    head, base = mmdet.heads['det'], plain.heads['det']
    assert base.ctr_convs is None and len(base.cls_branches) == 3
    assert len(head.cls_branches) == 1 and len(head.ctr_convs) == 1
    assert head.hard_targets and head.loss_bbox.loss_weight == 2.0
    assert isinstance(head.cls_branches[0][1][1], torch.nn.GroupNorm)
    assert len(head.cls_branches[0]) == 3  # --atss-cfg applies: 2 convs
    assert head.anchor_generator.strides == base.anchor_generator.strides
