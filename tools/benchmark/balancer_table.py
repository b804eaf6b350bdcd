"""Compare loss balancers on CPU benchmarks: mean and std over seeds.

``python tools/benchmark/balancer_table.py --bench synth --seeds 0 1 2
    --balancers EW UW DWA ... [--iters 300] [--out docs/results_synth.md]``

Benchmarks (built-in data, nothing downloaded):

- ``synth``: SynthScenes (48x64), segmentation + depth + normals, ResNet-18
  (random init) + FPN + light dense heads, hard sharing.
- ``digits``: Multi-MNIST-style pairs built from scikit-learn's digits
  (left and right digit classification), ResNet-18 + two classifiers.

For every seed the script first trains one single-task model per task (same
model, data, schedule) for the delta_m baselines, then each balancer. Every
run is a fixed number of AdamW iterations through
``MultiTaskModel.train_step`` (so every balancer runs exactly as in the
Runner), with ``after_train_epoch`` / ``after_val`` calls at epoch ends.
Prints a markdown table: mean ± std of each metric and of delta_m (task
average, %), delta_m minus EW's on the same seed, and whether the balancer
beats equal weighting by more than that difference's standard deviation.
"""
import argparse
import copy
import json
import os
import statistics
import time

import numpy as np
import torch

BALANCER_DEFAULTS = {
    # balancers whose constructor needs per-task information
    'AMTL': lambda tasks, bench: dict(
        potentials=bench['potentials'], metric_keys=bench['metric_keys']),
    'DTP': lambda tasks, bench: dict(metric_keys=bench['metric_keys']),
    'OLAUX': lambda tasks, bench: dict(main_task=tasks[0]),
    'OL_AUX': lambda tasks, bench: dict(main_task=tasks[0]),
    'Gcosim': lambda tasks, bench: dict(main_task=tasks[0]),
    'GeMTL': lambda tasks, bench: dict(p_start=-0.5, p_end=0.5,
                                       total_iters=bench['iters']),
}


def synth_bench(args):
    from mtlbox.datasets import SynthScenes
    ch = 32
    heads = dict(
        seg=dict(type='SegHead', in_channels=[ch] * 3, num_classes=6,
                 channels=ch),
        depth=dict(type='DepthHead', in_channels=[ch] * 3, channels=ch),
        normal=dict(type='NormalHead', in_channels=[ch] * 3, channels=ch))
    model = dict(
        type='MultiTaskModel',
        backbone=dict(type='ResNet', depth=18, out_indices=(1, 2, 3)),
        neck=dict(type='FPN', in_channels=[128, 256, 512], out_channels=ch),
        heads=heads)
    tasks = list(heads)
    pipeline = [dict(type='PackMTLInputs')]
    train = SynthScenes(num_samples=args.train_size, img_size=(48, 64),
                        seed=0, tasks=tasks, cache=True, pipeline=pipeline)
    val = SynthScenes(num_samples=args.val_size, img_size=(48, 64), seed=1,
                      tasks=tasks, cache=True, pipeline=pipeline)
    metrics = dict(seg=dict(type='SegMetric', task='seg', num_classes=6),
                   depth=dict(type='DepthMetric', task='depth'),
                   normal=dict(type='NormalMetric', task='normal'))
    return dict(model=model, tasks=tasks, train=train, val=val,
                metrics=metrics,
                keys=['seg/mIoU', 'depth/abs_rel', 'depth/delta1',
                      'normal/mean', 'normal/11.25'],
                metric_keys=dict(seg='seg/mIoU', depth='depth/delta1',
                                 normal='normal/11.25'))


def digits_bench(args):
    from mtlbox.datasets.multi_mnist import MultiDigitsDataset
    tasks = ['left', 'right']
    heads = {t: dict(type='ClsHead', in_channels=50, num_classes=10,
                     label_index=i) for i, t in enumerate(tasks)}
    model = dict(
        type='MultiTaskModel',
        data_preprocessor=dict(type='MTLDataPreprocessor', mean=(33.3, ),
                               std=(78.6, ), bgr_to_rgb=False,
                               pad_size_divisor=1),
        backbone=dict(type='SmallConvNet', in_channels=1, channels=(10, 20),
                      fc_channels=50, input_size=(28, 28)),
        heads=heads)
    meta = ('img_path', 'img_shape', 'ori_shape', 'sample_idx', 'source',
            'labeled_tasks', 'task_names')
    pipeline = [dict(type='PackMTLInputs', meta_keys=meta,
                     task_map=dict(left='cls', right='cls'))]
    train = MultiDigitsDataset(split='train', seed=0, sample_range=(0, 1200),
                               pipeline=pipeline)
    val = MultiDigitsDataset(split='test', seed=1, pipeline=pipeline,
                             test_mode=True)
    metrics = {t: dict(type='ClsMetric', task=t, num_classes=10,
                       label_index=i) for i, t in enumerate(tasks)}
    return dict(model=model, tasks=tasks, train=train, val=val,
                metrics=metrics, keys=['left/top1', 'right/top1'],
                metric_keys=dict(left='left/top1', right='right/top1'))


def batches(dataset, batch_size, rng):
    from mmengine.dataset import pseudo_collate
    order = rng.permutation(len(dataset))
    for i in range(0, len(order) - batch_size + 1, batch_size):
        yield pseudo_collate([dataset[int(j)] for j in order[i:i + batch_size]])


def evaluate(model, bench, tasks):
    from mmengine.dataset import pseudo_collate

    from mtlbox.registry import METRICS
    metrics = [METRICS.build(copy.deepcopy(bench['metrics'][t]))
               for t in tasks]
    for m in metrics:
        m.dataset_meta = bench['val'].metainfo
    model.eval()
    with torch.no_grad():
        for i in range(0, len(bench['val']), 32):
            data = pseudo_collate([bench['val'][j] for j in range(
                i, min(i + 32, len(bench['val'])))])
            outputs = model.val_step(data)
            for m in metrics:
                m.process(data, [o.to_dict() for o in outputs])
    out = {}
    for m in metrics:
        out.update(m.evaluate(len(bench['val'])))
    model.train()
    return out


def run(bench, tasks, balancer, seed, args):
    from mmengine.optim import OptimWrapper

    from mtlbox.registry import MODELS
    torch.manual_seed(seed)
    cfg = copy.deepcopy(bench['model'])
    cfg['heads'] = {t: cfg['heads'][t] for t in tasks}
    cfg['balancer'] = balancer
    model = MODELS.build(cfg)
    model.init_weights()
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=args.lr),
                         clip_grad=dict(max_norm=10.0))
    rng = np.random.default_rng(seed)
    it, epoch, start = 0, 0, time.time()
    while it < args.iters:
        for data in batches(bench['train'], args.batch_size, rng):
            model.train_step(data, optim)
            it += 1
            if it >= args.iters:
                break
        model.balancer.after_train_epoch(epoch)
        epoch += 1
        if balancer['type'] in ('AMTL', 'DTP') and it < args.iters:
            model.balancer.after_val(evaluate(model, bench, tasks))
    result = evaluate(model, bench, tasks)
    result['seconds'] = time.time() - start
    return result


def render_table(raw, keys):
    """Markdown rows: mean ± std over seeds of each metric and delta_m, and
    delta_m minus EW's on the same seed (paired), which removes the seed's
    own luck. "beats EW" is yes/no only when that paired difference is
    larger than its standard deviation, else "tie"."""
    keys = list(keys) + ['delta_m', 'seconds']
    ew = [r['delta_m'] for r in raw['runs'].get('EW', [])]

    def fmt(values):
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        return statistics.mean(values), std, (
            f'{statistics.mean(values):.3f} ± {std:.3f}')

    lines = ['| balancer | ' + ' | '.join(keys) +
             ' | delta_m - EW (paired) | beats EW |',
             '|' + ' --- |' * (len(keys) + 3)]
    for name, results in raw['runs'].items():
        cells = [fmt([r[k] for r in results])[2] for k in keys]
        if ew and name != 'EW':
            diff = [r['delta_m'] - e for r, e in zip(results, ew)]
            mean, std, text = fmt(diff)
            verdict = ('yes' if mean > std else 'no' if mean < -std else
                       'tie')
        else:
            text, verdict = '-', '-'
        lines.append(f'| {name} | ' + ' | '.join(cells) +
                     f' | {text} | {verdict} |')
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--bench', choices=['synth', 'digits'],
                        default='synth')
    parser.add_argument('--balancers', nargs='+', default=[
        'EW', 'UW', 'DWA', 'RLW', 'GLS', 'GeMTL', 'DTP', 'AMTL', 'MGDA',
        'PCGrad', 'CAGrad', 'IMTL', 'GradNorm', 'NashMTL'])
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--iters', type=int, default=300)
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--lr', type=float, default=2e-3)
    parser.add_argument('--train-size', type=int, default=256)
    parser.add_argument('--val-size', type=int, default=64)
    parser.add_argument('--out', help='write the markdown table here')
    parser.add_argument('--keys', nargs='*', help='metrics shown with '
                        '--from-json (default: all)')
    parser.add_argument('--json', help='write all raw results here')
    parser.add_argument('--from-json',
                        help='only re-render the table of a --json file')
    parser.add_argument('--resume', action='store_true',
                        help='keep the runs already in the --json file '
                        '(it is rewritten after every run) and do the rest')
    args = parser.parse_args()
    if args.resume and not args.json:
        parser.error('--resume needs --json FILE (the partial results)')
    if args.from_json:
        with open(args.from_json) as f:
            raw = json.load(f)
        keys = [k for k in raw['runs']['EW'][0]
                if '/' in k] if 'EW' in raw['runs'] else []
        keys = args.keys or keys
        print('\n'.join(render_table(raw, keys)))
        return
    torch.set_num_threads(2)
    import mtlbox
    mtlbox.register_all_modules()
    from mtlbox.evaluation.mtl_evaluator import delta_m
    bench = (synth_bench if args.bench == 'synth' else digits_bench)(args)
    tasks = bench['tasks']
    bench['iters'] = args.iters
    raw = {'baselines': {}, 'runs': {}}
    if args.resume and os.path.exists(args.json):
        with open(args.json) as f:
            raw = json.load(f)
        # JSON object keys are strings; seeds are ints here.
        raw['baselines'] = {int(k): v for k, v in raw['baselines'].items()}

    def save():
        if args.json:
            tmp = args.json + '.tmp'
            with open(tmp, 'w') as f:
                json.dump(raw, f, indent=1, default=float)
            os.replace(tmp, args.json)

    for seed in args.seeds:
        if seed in raw['baselines']:
            continue
        base = {}
        for task in tasks:
            base.update(run(bench, [task], dict(type='EW'), seed, args))
        base.pop('seconds', None)
        raw['baselines'][seed] = base
        save()
        print(f'seed {seed} single-task: {json.dumps(base)}', flush=True)
    potentials = {t: statistics.mean(raw['baselines'][s][k]
                                     for s in args.seeds)
                  for t, k in bench['metric_keys'].items()}
    bench['potentials'] = potentials
    for name in args.balancers:
        extra = BALANCER_DEFAULTS.get(name, lambda t, b: {})(tasks, bench)
        done = raw['runs'].setdefault(name, [])
        for seed in args.seeds[len(done):]:
            res = run(bench, tasks, dict(type=name, **extra), seed, args)
            res['delta_m'] = delta_m(res, raw['baselines'][seed])['task_avg']
            done.append(res)
            save()
            print(f'{name} seed {seed}: {json.dumps(res)}', flush=True)
    lines = render_table(raw, bench['keys'])
    table = '\n'.join(lines)
    print(table)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(table + '\n')


if __name__ == '__main__':
    main()
