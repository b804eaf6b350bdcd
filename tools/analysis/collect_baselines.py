"""Turn single-task test results into the baselines of a multi-task run.

``tools/analysis/collect_baselines.py RESULT.json [RESULT.json ...]
    --out baselines.json [--metric-keys det=det/mAP seg=seg/mIoU ...]``

Each RESULT is the ``--out`` JSON of ``tools/test.py`` for one single-task
model. They are merged (a key reported by two files is an error) into
``baselines.json``, which ``MTLEvaluator(baselines=...)`` reads to report
``mtl/delta_m``. With ``--metric-keys`` the script also prints the
``potentials`` of AMTL (single-task value of each task's metric) as a config
snippet and ``--cfg-options`` arguments.
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))


def collect(paths):
    """The results of ``paths`` merged (a key in two files is an error)."""
    from mtlbox.evaluation.baselines import merge_metrics
    return merge_metrics(paths, 'single-task result')


def potentials(baselines, metric_keys):
    out = {}
    for task, key in metric_keys.items():
        if key not in baselines:
            raise KeyError(f'--metric-keys {task}={key}: {key} is in none of '
                           f'the results (have: {sorted(baselines)})')
        out[task] = baselines[key]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('results', nargs='+')
    parser.add_argument('--out', required=True)
    parser.add_argument('--metric-keys', nargs='*', default=[],
                        help='task=metric pairs for AMTL potentials')
    args = parser.parse_args()
    baselines = collect(args.results)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(baselines, f, indent=2, sort_keys=True)
    print(f'wrote {len(baselines)} baselines to {args.out}')
    if args.metric_keys:
        pairs = dict(item.split('=', 1) for item in args.metric_keys)
        pots = potentials(baselines, pairs)
        print('AMTL/DTP config snippet:')
        print(f'    potentials={pots!r},\n    metric_keys={pairs!r},')
        print('as --cfg-options: ' + ' '.join(
            f'model.balancer.potentials.{t}={v:.6g}' for t, v in pots.items()))


if __name__ == '__main__':
    main()
