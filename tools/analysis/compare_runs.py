"""Compare runs: one row per run, its metrics and delta_m, as markdown or CSV.

``tools/analysis/compare_runs.py RUN [RUN ...] [--baselines b.json]
    [--keys seg/mIoU depth/abs_rel ...] [--format md|csv] [--out FILE]``

A RUN is a metrics JSON written by ``tools/test.py --out`` or a work dir
(its latest validation line in ``vis_data/scalars.json`` is used). Name a
run with ``NAME=PATH``. Several runs with the same NAME (seeds) are
averaged and reported as ``mean ± std``.
"""
import argparse
import glob
import json
import os.path as osp
import statistics
from collections import OrderedDict


def load_run(path):
    if osp.isdir(path):
        files = sorted(glob.glob(osp.join(path, '*', 'vis_data',
                                          'scalars.json')))
        if not files:
            raise FileNotFoundError(f'{path}: no */vis_data/scalars.json')
        last = None
        with open(files[-1]) as f:
            for line in f:
                row = json.loads(line) if line.strip() else {}
                if any('/' in k for k in row):
                    last = row
        if last is None:
            raise ValueError(f'{files[-1]} has no validation results')
        return {k: v for k, v in last.items() if '/' in k}
    if not osp.isfile(path):
        raise FileNotFoundError(f'run {path} is neither a work dir nor a '
                                'metrics JSON of tools/test.py --out')
    with open(path) as f:
        return {k: v for k, v in json.load(f).items()
                if isinstance(v, (int, float))}


def table(runs, keys, baselines=None):
    """``runs``: {name: [metrics dicts]} -> (header, rows of strings)."""
    from mtlbox.evaluation.mtl_evaluator import delta_m
    header = ['run', 'n'] + keys
    if baselines:
        header += ['delta_m (task avg, %)', 'delta_m (metric avg, %)']
    rows = []
    for name, results in runs.items():
        row = [name, str(len(results))]
        columns = [[r.get(k) for r in results] for k in keys]
        if baselines:
            deltas = [delta_m(r, baselines) for r in results]
            columns.append([d['task_avg'] for d in deltas])
            columns.append([d['metric_avg'] for d in deltas])
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
    parser.add_argument('--baselines', help='JSON of collect_baselines.py')
    parser.add_argument('--keys', nargs='*', help='metrics to show')
    parser.add_argument('--format', choices=['md', 'csv'], default='md')
    parser.add_argument('--out')
    args = parser.parse_args()
    runs = OrderedDict()
    for spec in args.runs:
        name, _, path = spec.rpartition('=')
        name = name or osp.splitext(osp.basename(path.rstrip('/')))[0]
        runs.setdefault(name, []).append(load_run(path))
    baselines = None
    if args.baselines:
        from mtlbox.evaluation.mtl_evaluator import load_baselines
        baselines = load_baselines(args.baselines)
    keys = args.keys or sorted({k for rs in runs.values() for r in rs
                                for k in r if not k.startswith('mtl/')})
    text = render(*table(runs, keys, baselines), args.format)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')
    print(text)


if __name__ == '__main__':
    main()
