"""Peak resident memory of one training step with each memory switch.

``python tools/benchmark/memory_switches.py [--models flagship squadnet]
    [--switches none with_cp channels_last both] [--batch-size N]
    [--size H W] [--steps 1]``

For each model and switch a fresh process builds the model from its config
(``flagship``: configs/seg_det_depth/amtl_effv2s.py at 640x640, batch 8;
``squadnet``: configs/squadnet/squadnet_base_nyud_mt.py at 448x576, batch
2), runs ``--steps`` training steps (``MultiTaskModel.train_step`` with an
SGD ``OptimWrapper``: forward, the balancer's step, backward, update) on a
synthetic batch in which every sample is labelled for every task (the
worst case of a partially labelled batch: every head computes its loss),
and reports its peak RSS (``getrusage`` ``ru_maxrss``), the RSS before the
first step, and the seconds per step. Switches: ``with_cp=True`` on the
backbone and the neck (activation checkpointing), ``channels_last=True`` in
the data preprocessor (channels-last batches), both, or none. CPU only.
"""
import argparse
import json
import os
import os.path as osp
import resource
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODELS = {
    'flagship': ('configs/seg_det_depth/amtl_effv2s.py', (640, 640), 8),
    'squadnet': ('configs/squadnet/squadnet_base_nyud_mt.py', (448, 576), 2),
}
SWITCHES = {
    'none': dict(with_cp=False, channels_last=False),
    'with_cp': dict(with_cp=True, channels_last=False),
    'channels_last': dict(with_cp=False, channels_last=True),
    'both': dict(with_cp=True, channels_last=True),
}


def rss_mib() -> float:
    with open('/proc/self/statm') as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf('SC_PAGE_SIZE') / 2**20


def synthetic_batch(heads: dict, batch_size: int, size, seed: int = 0):
    """Raw uint8 images and samples labelled for every head's task (boxes
    for ``ATSSDetHead``, a label map for ``SegHead``, metric depth for
    ``DepthHead``, unit normals for ``NormalHead``)."""
    import torch
    from mmengine.structures import InstanceData, PixelData

    from mtlbox.structures import MTLDataSample
    g = torch.Generator().manual_seed(seed)
    h, w = size
    inputs, samples = [], []
    for _ in range(batch_size):
        inputs.append(torch.randint(0, 256, (3, h, w), dtype=torch.uint8,
                                    generator=g))
        s = MTLDataSample(metainfo=dict(
            img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0),
            labeled_tasks=list(heads)))
        for task, head in heads.items():
            kind = head['type']
            if kind == 'ATSSDetHead':
                xy = torch.rand(6, 2, generator=g) * torch.tensor(
                    [w * .7, h * .7])
                s.gt_instances = InstanceData(
                    bboxes=torch.cat([xy, xy + 16 + torch.rand(
                        6, 2, generator=g) * 120], 1),
                    labels=torch.randint(0, head['num_classes'], (6, ),
                                         generator=g))
            elif kind == 'SegHead':
                s.gt_sem_seg = PixelData(data=torch.randint(
                    0, head['num_classes'], (1, h, w), generator=g))
            elif kind == 'DepthHead':
                s.gt_depth = PixelData(
                    data=torch.rand(1, h, w, generator=g) * 9 + 0.5)
            elif kind == 'NormalHead':
                n = torch.randn(3, h, w, generator=g)
                s.gt_normal = PixelData(data=n / n.norm(dim=0, keepdim=True))
            else:
                raise ValueError(f'memory_switches: no synthetic label for '
                                 f'{task} ({kind}); add one here')
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def measure(model_name, switch, batch_size, size, steps) -> dict:
    """One model and switch, in this process."""
    import torch
    from mmengine.optim import OptimWrapper

    import mtlbox
    from mtlbox.registry import MODELS as REGISTRY
    from mtlbox.utils.config_check import load_config
    mtlbox.register_all_modules(init_default_scope=True)
    config, _, _ = MODELS[model_name]
    cfg = load_config(osp.join(ROOT, config))
    flags = SWITCHES[switch]
    model_cfg = cfg.model
    model_cfg.backbone.with_cp = flags['with_cp']
    if model_cfg.get('neck'):
        model_cfg.neck.with_cp = flags['with_cp']
    model_cfg.data_preprocessor.channels_last = flags['channels_last']
    model_cfg.backbone.pop('init_cfg', None)  # random weights: no file
    torch.manual_seed(0)
    model = REGISTRY.build(model_cfg)
    model.train()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-4))
    batch = synthetic_batch(dict(model_cfg.heads), batch_size, size)
    before = rss_mib()
    start = time.time()
    for _ in range(steps):
        log = model.train_step(dict(batch), optim)
    seconds = (time.time() - start) / steps
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return dict(model=model_name, switch=switch, batch_size=batch_size,
                size=list(size), peak_rss_mib=round(peak),
                rss_before_step_mib=round(before),
                seconds_per_step=round(seconds, 1),
                loss=round(float(log['loss']), 4))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--models', nargs='+', default=list(MODELS),
                        choices=list(MODELS))
    parser.add_argument('--switches', nargs='+', default=list(SWITCHES),
                        choices=list(SWITCHES))
    parser.add_argument('--batch-size', type=int, default=None,
                        help="override every model's batch size")
    parser.add_argument('--size', type=int, nargs=2, default=None,
                        metavar=('H', 'W'), help="override the input size")
    parser.add_argument('--steps', type=int, default=1)
    parser.add_argument('--out', help='write the rows as JSON')
    parser.add_argument('--one', nargs=2, metavar=('MODEL', 'SWITCH'),
                        help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.one:
        name, switch = args.one
        _, size, batch = MODELS[name]
        row = measure(name, switch, args.batch_size or batch,
                      tuple(args.size or size), args.steps)
        print('ROW ' + json.dumps(row))
        return
    rows = []
    print(f'{"model":<10}{"switch":<15}{"batch":>6}{"size":>10}'
          f'{"peak RSS":>11}{"before":>9}{"s/step":>8}{"loss":>9}')
    for name in args.models:
        for switch in args.switches:
            cmd = [sys.executable, __file__, '--one', name, switch,
                   '--steps', str(args.steps)]
            if args.batch_size:
                cmd += ['--batch-size', str(args.batch_size)]
            if args.size:
                cmd += ['--size', *map(str, args.size)]
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True,
                                  text=True)
            found = [line[4:] for line in proc.stdout.splitlines()
                     if line.startswith('ROW ')]
            if proc.returncode != 0 or not found:
                print(f'{name:<10}{switch:<15} failed: '
                      f'{proc.stderr.strip()[-500:]}')
                continue
            r = json.loads(found[0])
            rows.append(r)
            print(f'{name:<10}{switch:<15}{r["batch_size"]:>6}'
                  f'{"x".join(map(str, r["size"])):>10}'
                  f'{r["peak_rss_mib"] / 1024:>9.2f}GB'
                  f'{r["rss_before_step_mib"] / 1024:>7.2f}GB'
                  f'{r["seconds_per_step"]:>8.1f}{r["loss"]:>9.4f}',
                  flush=True)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(rows, f, indent=2)


if __name__ == '__main__':
    main()
