"""Plot per-task losses, task weights and validation metrics of a run.

``tools/analysis/plot_curves.py WORK_DIR [--out curves.png]``

Reads mmengine's ``vis_data/scalars.json`` of the latest (or ``--run``)
timestamped folder of ``WORK_DIR``: training lines carry ``{task}.loss_*``
and ``{task}.weight``; validation lines carry ``{task}/{metric}``.
"""
import argparse
import glob
import json
import os
import os.path as osp
from collections import defaultdict


def find_scalars(work_dir, run=None):
    pattern = osp.join(work_dir, run or '*', 'vis_data', 'scalars.json')
    files = sorted(glob.glob(pattern))
    if not files:
        raise FileNotFoundError(
            f'no {pattern}; is {work_dir} the --work-dir of a training run?')
    return files[-1]


def read_scalars(path):
    """(train series, val series): ``{key: [(x, value), ...]}``; training
    x is the iteration, validation x the epoch (or step)."""
    train, val = defaultdict(list), defaultdict(list)
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}:{line_no}: not JSON ({err})')
            is_val = any('/' in k for k in row)
            x = row.get('step', row.get('iter', line_no))
            for key, value in row.items():
                if not isinstance(value, (int, float)):
                    continue
                if is_val and '/' in key:
                    val[key].append((x, value))
                elif not is_val and ('.loss' in key or key.endswith(
                        '.weight') or key == 'loss'):
                    train[key].append((row.get('iter', x), value))
    return train, val


def plot(train, val, out):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    losses = {k: v for k, v in train.items() if 'loss' in k}
    weights = {k: v for k, v in train.items() if k.endswith('.weight')}
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    for ax, series, title in ((axes[0], losses, 'training losses'),
                              (axes[1], weights, 'task weights')):
        for key, points in sorted(series.items()):
            xs, ys = zip(*points)
            ax.plot(xs, ys, label=key)
        ax.set_title(title)
        ax.set_xlabel('iteration')
        if series:
            ax.legend(fontsize=7)
    for key, points in sorted(val.items()):
        xs, ys = zip(*points)
        axes[2].plot(xs, ys, marker='o', label=key)
    axes[2].set_title('validation metrics')
    axes[2].set_xlabel('epoch')
    if val:
        axes[2].legend(fontsize=7)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('work_dir')
    parser.add_argument('--run', help='timestamp folder (default: latest)')
    parser.add_argument('--out', help='PNG path (default WORK_DIR/curves.png)')
    args = parser.parse_args()
    path = find_scalars(args.work_dir, args.run)
    train, val = read_scalars(path)
    out = args.out or osp.join(args.work_dir, 'curves.png')
    plot(train, val, out)
    print(f'wrote {out} from {path}: {len(train)} training and {len(val)} '
          'validation series')


if __name__ == '__main__':
    main()
