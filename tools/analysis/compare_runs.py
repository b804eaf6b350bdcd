"""Compare runs: one row per run, its metrics and delta_m, as markdown or CSV.

``tools/analysis/compare_runs.py RUN [RUN ...] [--baselines b.json |
    published:nyuv2_segnet_mtan] [--last-k 10] [--keys seg/mIoU ...]
    [--format md|csv] [--out FILE]``

A RUN is a metrics JSON written by ``tools/test.py --out`` or a work dir
(the mean of its last ``--last-k`` validations in ``vis_data/scalars.json``;
default 1, the latest; the Nash-MTL / FAMO protocol is ``--last-k 10`` with
the test split as validation set). Name a run with ``NAME=PATH``. Several
runs with the same NAME (seeds) are reported as ``mean ± std``. With
``--baselines`` three delta_m columns follow: mtlbox's task average and the
metric average (higher is better), and the metric average in the papers'
sign (lower is better), see docs/protocol.md.
"""
import argparse
import glob
import json
import os.path as osp
import statistics
import sys
from collections import OrderedDict

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))


def _is_metric(key):
    return '/' in key and not key.startswith('balancer/')


def validation_rows(work_dir):
    """Validation results of a work dir in epoch order: every
    ``<timestamp>/vis_data/scalars.json`` (a resumed run writes a new one),
    a later file's row replacing an earlier one of the same step."""
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                      'scalars.json')))
    if not files:
        raise FileNotFoundError(f'{work_dir}: no */vis_data/scalars.json')
    by_step = OrderedDict()
    for path in files:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as err:
                    raise ValueError(f'{path} line {n}: not JSON ({err})'
                                     ) from None
                if 'lr' in row or not any(_is_metric(k) for k in row):
                    continue  # a training or balancer-weight row
                metrics = {k: v for k, v in row.items() if _is_metric(k)
                           and isinstance(v, (int, float))}
                step = row.get('step', len(by_step))
                by_step.pop(step, None)  # keep steps in the order last seen
                by_step[step] = metrics
    if not by_step:
        raise ValueError(f'{files[-1]} has no validation results')
    return list(by_step.values())


def average_last(rows, k):
    """Per key, the mean over the last ``k`` rows that report it (the
    Nash-MTL / FAMO protocol: the mean of the last 10 epochs' test
    results)."""
    keys = OrderedDict((key, None) for row in rows for key in row)
    out = {}
    for key in keys:
        values = [row[key] for row in rows if key in row][-k:]
        out[key] = sum(values) / len(values)
    return out


def load_run(path, last_k=1):
    """Metrics of one run: a work dir (mean of its last ``last_k``
    validations, see :func:`average_last`) or a ``tools/test.py --out``
    JSON (one result; ``last_k`` does not apply)."""
    if osp.isdir(path):
        rows = validation_rows(path)
        if last_k > len(rows):
            print(f'warning: {path} has {len(rows)} validations, fewer than '
                  f'--last-k {last_k}; averaging all of them',
                  file=sys.stderr)
        return average_last(rows, last_k)
    if not osp.isfile(path):
        raise FileNotFoundError(f'run {path} is neither a work dir nor a '
                                'metrics JSON of tools/test.py --out')
    from mtlbox.evaluation.baselines import read_metrics_json
    return read_metrics_json(path, 'run')


#: delta_m columns: (header, key of mtlbox.evaluation.delta_m's result)
DELTA_COLUMNS = (
    ('delta_m (task avg, %)', 'task_avg'),
    ('delta_m (metric avg, %)', 'metric_avg'),
    ('delta_m paper (metric avg, lower better, %)',
     'metric_avg_lower_better'),
)


def table(runs, keys, baselines=None):
    """``runs``: {name: [metrics dicts]} (one per seed) -> (header, rows of
    strings): each metric and delta_m as ``mean ± std`` over the seeds.
    delta_m columns (with ``baselines``): mtlbox's per-task average and
    the metric average, both higher-is-better, then the metric average in
    the Nash-MTL / FAMO sign (lower is better)."""
    from mtlbox.evaluation.mtl_evaluator import delta_m
    header = ['run', 'n'] + keys
    if baselines:
        header += [title for title, _ in DELTA_COLUMNS]
    rows = []
    for name, results in runs.items():
        row = [name, str(len(results))]
        columns = [[r.get(k) for r in results] for k in keys]
        if baselines:
            deltas = [delta_m(r, baselines) for r in results]
            columns += [[d[key] for d in deltas] for _, key in DELTA_COLUMNS]
        for values in columns:
            values = [v for v in values if v is not None]
            if not values:
                row.append('-')
            elif len(values) == 1:
                row.append(f'{values[0]:.4f}')
            else:
                row.append(f'{statistics.mean(values):.4f} ± '
                           f'{statistics.stdev(values):.4f}')
        rows.append(row)
    return header, rows


def render(header, rows, fmt):
    if fmt == 'csv':
        return '\n'.join(','.join(r) for r in [header] + rows)
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '|'.join(' --- ' for _ in header) + '|']
    lines += ['| ' + ' | '.join(r) + ' |' for r in rows]
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('runs', nargs='+')
    parser.add_argument('--baselines',
                        help='JSON of collect_baselines.py, or '
                        'published:<name> (mtlbox.evaluation.baselines)')
    parser.add_argument('--last-k', type=int, default=1,
                        help='average the last k validations of a work dir')
    parser.add_argument('--keys', nargs='*', help='metrics to show')
    parser.add_argument('--format', choices=['md', 'csv'], default='md')
    parser.add_argument('--out')
    args = parser.parse_args()
    runs = OrderedDict()
    for spec in args.runs:
        name, _, path = spec.rpartition('=')
        name = name or osp.splitext(osp.basename(path.rstrip('/')))[0]
        runs.setdefault(name, []).append(load_run(path, args.last_k))
    baselines = None
    if args.baselines:
        from mtlbox.evaluation.baselines import load_baselines
        baselines = load_baselines(args.baselines)
    have = {k for rs in runs.values() for r in rs for k in r}
    # the baselines' order (a paper's column order) when they cover the runs
    keys = args.keys or [k for k in (baselines or {}) if k in have] or sorted(
        k for k in have if not k.startswith('mtl/'))
    text = render(*table(runs, keys, baselines), args.format)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')
    print(text)


if __name__ == '__main__':
    main()
