"""Training cost of each seed config on this machine: s/iter and peak RSS at
the config's REAL input size and batch.

The data are tiny copies in the official on-disk formats
(``tests/recipes/formats.py``; NYUv2 at its real 288x384, the others resized
by their pipelines to the real input size), repeated so that every batch is
full. Each config runs in its own subprocess (peak RSS is per process:
``resource.getrusage(RUSAGE_SELF).ru_maxrss``) for ``--iters`` training
iterations, without validation or checkpoints; s/iter is the mean over the
iterations after the first (which includes lazy initialisation). A run is
limited to ``--max-mem-gb`` of address space above its start, so a config
that does not fit fails alone (and is measured again at
``--fallback-batch``) instead of starting the machine's OOM killer.

Usage::

    python tools/benchmark/recipe_cost.py                    # every recipe
    python tools/benchmark/recipe_cost.py --recipes flagship nyuv2 \\
        --iters 3 --threads 1 --out work_dirs/recipe_cost.json

Not run by the tests (minutes to tens of minutes on a CPU).
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))

# name: (config, how the data roots are set, the train set's sampler kind)
RECIPES = {
    'flagship': 'configs/seg_det_depth/amtl_effv2s.py',
    'nyuv2': 'configs/nyuv2/gemtl_deeplab_r50.py',
    'office_home': 'configs/office_home/gemtl_resnet18.py',
    'squadnet_nyud': 'configs/squadnet/squadnet_base_nyud_mt.py',
    'squadnet_pascal': 'configs/squadnet/squadnet_base_pascal_context.py',
    'underwater': 'configs/underwater/squadnet_det_enhance.py',
    'slgrad_cifar': 'configs/slgrad/cifar10_noise_slgrad.py',
    'slgrad_mnist': 'configs/slgrad/multi_mnist_slgrad.py',
    'slgrad_toy': 'configs/slgrad/toy_regression_slgrad.py',
}
# data folder of each recipe's (partial) sources, in order
ROOTS = {
    'flagship': ['voc', 'nyu_depth'],
    'nyuv2': ['nyuv2'],
    'office_home': ['office_home'],
    'squadnet_nyud': ['nyud_mt'],
    'squadnet_pascal': ['pascal'],
    'underwater': ['duo', 'uieb'],
    'slgrad_cifar': ['cifar10'],
    'slgrad_mnist': ['mnist'],
    'slgrad_toy': [],
}


def write_data(root):
    sys.path.insert(0, ROOT)
    from tests.recipes import formats
    j = osp.join
    data = dict(
        voc=formats.write_voc2012(j(root, 'VOC2012')),
        nyu_depth=formats.write_nyu_depth_list(j(root, 'nyu_depth_v2')),
        # the real mtan arrays: 288x384
        nyuv2=formats.write_nyuv2_mtan(
            j(root, 'nyuv2'), sizes={'train': [(384, 288)] * 8,
                                     'val': [(384, 288)] * 2}),
        office_home=formats.write_office_home(j(root, 'office-home')),
        nyud_mt=formats.write_nyud_mt(j(root, 'NYUD_MT')),
        pascal=formats.write_pascal_context_mt(j(root, 'PASCAL_MT')),
        duo=formats.write_duo(j(root, 'DUO')),
        uieb=formats.write_uieb(j(root, 'UIEB')),
        cifar10=formats.write_cifar10(j(root, 'cifar10'), per_batch=64),
        mnist=formats.write_mnist(j(root, 'mnist'), n_train=512, n_test=8))
    return {k: v['root'] for k, v in data.items()}


def _set_roots(cfg, name, roots):
    """Point every data root of the config at the copies."""
    keys = ROOTS[name]
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = cfg[loader]['dataset']
        if 'sources' in ds:
            for src, key in zip(ds['sources'], keys):
                src['data_root'] = roots[key]
        elif keys:
            ds['data_root'] = roots[keys[0]]
    bal = cfg.model.get('balancer', {})
    if 'val_dataloader' in bal and keys:  # SLGrad's held-out batches
        bal['val_dataloader']['dataset']['data_root'] = roots[keys[0]]
        bal['val_dataloader']['dataset'].pop('sample_range', None)


def measure_one(name, roots, iters, threads, work_dir, batch=None):
    """Build the Runner of one recipe and time ``iters`` training steps
    (``batch``: replace the config's batch size)."""
    import resource

    import torch
    from mmengine.config import Config
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    import mtlbox
    torch.set_num_threads(threads)
    mtlbox.register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(osp.join(ROOT, RECIPES[name]))
    _set_roots(cfg, name, roots)
    train = cfg.train_dataloader
    if batch:
        train['batch_size'] = batch
        if 'batch_size' in train['sampler']:
            train['sampler']['batch_size'] = batch
    batch = train['batch_size']
    train.update(num_workers=0, persistent_workers=False)
    if train['sampler']['type'] != 'SourceRatioSampler':
        # repeat the few images (>= 4 per split) so that batches are full
        ds = train['dataset']
        ds.pop('sample_range', None)
        train['dataset'] = dict(type='RepeatDataset', times=batch,
                                dataset=ds)
        train['sampler'] = dict(type='DefaultSampler', shuffle=False)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters,
                         val_interval=10**6)
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator',
                'test_dataloader', 'test_cfg', 'test_evaluator'):
        cfg[key] = None
    cfg.param_scheduler = None  # the learning rate does not change the cost
    cfg.default_hooks.checkpoint = None
    cfg.work_dir = work_dir
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    times = []

    class Timer(Hook):
        priority = 'VERY_LOW'

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            self.start = time.perf_counter()

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            times.append(time.perf_counter() - self.start)

    runner.register_hook(Timer())
    shape = None
    try:
        first = next(iter(runner.build_dataloader(cfg.train_dataloader)))
        inp = first['inputs']
        shape = list(inp[0].shape) if isinstance(inp, list) else list(
            inp.shape[1:])
    except Exception:  # noqa: BLE001 (the shape is informative only)
        pass
    runner.train()
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    steady = times[1:] or times
    return dict(recipe=name, config=RECIPES[name], batch=batch,
                input_shape=shape, iters=len(times), threads=threads,
                s_per_iter=sum(steady) / len(steady),
                first_iter_s=times[0] if times else None,
                peak_rss_gb=rss_kb / 2**20)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--recipes', nargs='+', default=list(RECIPES),
                        choices=list(RECIPES))
    parser.add_argument('--iters', type=int, default=3)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--out', help='write the rows as JSON here')
    parser.add_argument(
        '--max-mem-gb', type=float, default=12.0,
        help='address-space limit of each run above its start (a run that '
        'needs more fails with an allocation error instead of calling the '
        "machine's OOM killer); 0: no limit")
    parser.add_argument(
        '--fallback-batch', type=int, default=2,
        help='when a run fails at the real batch, measure this batch too')
    parser.add_argument('--one', help=argparse.SUPPRESS)
    parser.add_argument('--roots', help=argparse.SUPPRESS)
    parser.add_argument(
        '--batch', type=int,
        help="measure at this batch instead of the config's (a config that "
        'does not fit)')
    args = parser.parse_args()
    if args.one:  # child process: one recipe, one JSON line on stdout
        if args.max_mem_gb:
            import resource
            import torch  # noqa: F401 (its mappings belong to the baseline)
            with open('/proc/self/statm') as f:
                base = int(f.read().split()[0]) * os.sysconf('SC_PAGE_SIZE')
            limit = base + int(args.max_mem_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        with tempfile.TemporaryDirectory() as work:
            row = measure_one(args.one, json.loads(args.roots), args.iters,
                              args.threads, work, args.batch)
        print('RECIPE_COST ' + json.dumps(row), flush=True)
        return
    rows = []
    with tempfile.TemporaryDirectory() as data_dir:
        roots = write_data(data_dir)
        jobs = [(name, args.batch) for name in args.recipes]
        while jobs:
            name, batch = jobs.pop(0)
            cmd = [sys.executable, osp.abspath(__file__), '--one', name,
                   '--roots', json.dumps(roots), '--iters', str(args.iters),
                   '--threads', str(args.threads),
                   '--max-mem-gb', str(args.max_mem_gb)]
            if batch:
                cmd += ['--batch', str(batch)]
            env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
            start, load = time.time(), os.getloadavg()[0]
            with tempfile.TemporaryFile('w+') as out:
                proc = subprocess.Popen(cmd, cwd=ROOT, env=env, text=True,
                                        stdout=out, stderr=subprocess.STDOUT)
                # wait4: the child's own peak RSS, even when it is killed
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                out.seek(0)
                text = out.read()
            line = [ln for ln in text.splitlines()
                    if ln.startswith('RECIPE_COST ')]
            if proc.returncode or not line:
                row = dict(recipe=name, config=RECIPES[name], batch=batch,
                           returncode=proc.returncode,
                           peak_rss_gb=usage.ru_maxrss / 2**20,
                           error=text[-600:])
                if batch is None and args.fallback_batch:
                    jobs.insert(0, (name, args.fallback_batch))
            else:
                row = json.loads(line[-1][len('RECIPE_COST '):])
            row['wall_s'] = time.time() - start
            row['loadavg_1min'] = [load, os.getloadavg()[0]]
            rows.append(row)
            print(json.dumps(row), flush=True)
            if args.out:
                os.makedirs(osp.dirname(osp.abspath(args.out)),
                            exist_ok=True)
                with open(args.out, 'w') as f:
                    json.dump(rows, f, indent=1)
    print(f'\n| recipe | config | batch | input | s/iter | peak RSS GB |'
          f'\n| --- | --- | --- | --- | --- | --- |')
    for r in rows:
        if 'error' in r:
            print(f"| {r['recipe']} | {r['config']} | {r['batch'] or 'real'}"
                  f" | - | failed (exit {r.get('returncode')}) | "
                  f"{r['peak_rss_gb']:.1f} (at failure) |")
            continue
        print(f"| {r['recipe']} | {r['config']} | {r['batch']} | "
              f"{'x'.join(map(str, r['input_shape'] or []))} | "
              f"{r['s_per_iter']:.2f} | {r['peak_rss_gb']:.1f} |")


if __name__ == '__main__':
    main()
