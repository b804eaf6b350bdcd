"""Step time of every loss balancer on the demo model, measured in one run.

Builds the demo model of ``configs/synth/hps_r18_ew_synth.py`` (ResNet-18 +
FPN, hard sharing, seg/depth/normal heads) once, pre-renders SynthScenes
batches, and times ``model.train_step`` for each balancer in round-robin
(every round times one step of every balancer, so a change of machine load
hits all of them alike). Prints the median step time of each balancer
divided by

- the plain-sum step time (``EW``), and, for gradient-level methods,
- the floor: the same engine with an aggregate that just sums G (forward +
  the per-task shared backward passes + head backward + optimizer step).

Issue #3 targets: loss-level <= 1.03x plain sum, gradient-level <= 1.15x the
floor. Usage::

    OMP_NUM_THREADS=2 python tools/benchmark/balancers.py \\
        [--steps 10] [--warmup 2] [--batch-size 16] [--only EW,PCGrad]

The optimizer is plain SGD (no per-parameter state) so the numbers compare
balancers, not optimizers; data loading is excluded.
"""
import argparse
import copy
import os.path as osp
import statistics
import sys
import time

import torch

sys.path.insert(0, osp.join(osp.dirname(__file__), '..', '..'))

import mtlbox  # noqa: E402
from mtlbox.balancers import Aggregation, BaseBalancer  # noqa: E402
from mtlbox.balancers import task_grads  # noqa: E402
from mtlbox.engine.balanced_step import call_aggregate, call_weigh  # noqa
from mtlbox.registry import BALANCERS, MODELS  # noqa: E402

CONFIG = 'configs/synth/hps_r18_ew_synth.py'
TASKS = ('seg', 'depth', 'normal')
METRICS = dict(seg='seg/mIoU', depth='depth/delta1', normal='normal/11.25')


class GradFloor(BaseBalancer):
    """The floor of gradient-level methods: G is computed, then summed."""

    needs = 'grads'

    def aggregate(self, grads, losses, tasks):
        return Aggregation(weights=grads.new_ones(len(tasks)))


def balancer_configs():
    """(name, config, kind) with kind 'loss', 'grad', 'feature', 'sample'."""
    loss = [
        ('EW', dict(type='EW')),
        ('Fixed', dict(type='Fixed', weights=dict(seg=1, depth=1, normal=1))),
        ('UW', dict(type='UW')), ('DWA', dict(type='DWA')),
        ('RLW', dict(type='RLW')), ('GLS', dict(type='GLS')),
        ('GeMTL', dict(type='GeMTL', total_iters=1000)),
        ('DTP', dict(type='DTP', metric_keys=METRICS)),
        ('AMTL', dict(type='AMTL', metric_keys=METRICS,
                      potentials=dict(seg=0.8, depth=0.9, normal=0.4))),
        ('STCH', dict(type='STCH')), ('FAMO', dict(type='FAMO')),
        ('IMTL-L', dict(type='IMTL-L')), ('SI', dict(type='SI')),
    ]
    grad = [
        ('floor', None),
        ('PCGrad', dict(type='PCGrad')), ('MGDA', dict(type='MGDA')),
        ('MGDA-l2', dict(type='MGDA', normalization='loss+')),
        ('CAGrad', dict(type='CAGrad')), ('GradNorm', dict(type='GradNorm')),
        ('IMTL-G', dict(type='IMTL-G')), ('IMTL', dict(type='IMTL')),
        ('GradVac', dict(type='GradVac')), ('GradDrop', dict(type='GradDrop')),
        ('Nash-MTL', dict(type='Nash-MTL')),
        ('Aligned-MTL', dict(type='Aligned-MTL')),
        ('DB-MTL', dict(type='DB-MTL')), ('UPGrad', dict(type='UPGrad')),
        ('MoCo', dict(type='MoCo')),
        ('OL-AUX', dict(type='OL-AUX', main_task='seg')),
        ('Gcosim', dict(type='Gcosim', main_task='seg')),
        ('FairGrad', dict(type='FairGrad')),
        ('ExcessMTL', dict(type='ExcessMTL')),
        ('SDMGrad', dict(type='SDMGrad')), ('MoDo', dict(type='MoDo')),
        ('ConFIG', dict(type='ConFIG')), ('DualProj', dict(type='DualProj')),
        ('UW+PCGrad', dict(type='Compose', loss_weighting=dict(type='UW'),
                           grad_method=dict(type='PCGrad'))),
    ]
    other = [('MGDA-UB', dict(type='MGDA-UB'), 'feature'),
             ('SLGrad', dict(type='SLGrad', main_task='seg'), 'sample'),
             ('AutoLambda', dict(type='AutoLambda'), 'meta')]
    return ([(n, c, 'loss') for n, c in loss] +
            [(n, c, 'grad') for n, c in grad] + other)


def build_model(batch_size):
    from mmengine.config import Config
    cfg = Config.fromfile(CONFIG)
    model_cfg = copy.deepcopy(cfg.model)
    return MODELS.build(model_cfg), cfg


def make_batches(cfg, num, batch_size, seed):
    from mmengine.dataset import pseudo_collate

    from mtlbox.datasets import SynthScenes
    ds_cfg = cfg.train_dataloader.dataset
    ds = SynthScenes(num_samples=num * batch_size, img_size=ds_cfg.img_size,
                     seed=seed, tasks=TASKS,
                     pipeline=[dict(type='PackMTLInputs')])
    return [pseudo_collate([ds[i * batch_size + j]
                            for j in range(batch_size)]) for i in range(num)]


def _time(fn, repeats, sync):
    out = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        out.append(time.perf_counter() - start)
    return statistics.median(out)


def isolated_costs(model, balancers, batch, device, repeats=5):
    """Seconds of each balancer's own work (``weigh`` or ``aggregate``) on
    the real losses and G of one demo batch, timed alone."""
    sync = (torch.cuda.synchronize if device.startswith('cuda')
            else lambda: None)
    data = model.data_preprocessor(batch, True)
    losses, _, _ = model._loss_and_features(data['inputs'],
                                            data['data_samples'])
    per_task = model.task_losses(losses)
    shared = model.shared_parameters()
    G, _ = task_grads.task_gradient_matrix(
        {t: v for t, v in per_task.items()}, shared, {}, mode='sequential')
    loss_vec = torch.stack([v.detach() for v in per_task.values()])
    costs = {}
    for name, (bal, kind) in balancers.items():
        if kind == 'loss':
            def run(bal=bal):
                leaves = {t: v.detach().requires_grad_()
                          for t, v in per_task.items()}
                call_weigh(bal, leaves).backward()
            costs[name] = _time(run, 20, sync)
        elif kind == 'grad':
            def run(bal=bal):
                call_aggregate(bal, G, loss_vec, list(per_task),
                               [p.numel() for p in shared]).combined(G)
            costs[name] = _time(run, repeats, sync)
    return costs


def isolated_ratio(name, kind, costs, med):
    if kind == 'loss':
        return f'{1 + (costs[name] - costs["EW"]) / med["EW"]:.3f}'
    if kind == 'grad':
        return f'{1 + (costs[name] - costs["floor"]) / med["floor"]:.3f}'
    return '-'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--only', default='',
                        help='comma-separated names (EW and floor always run)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available()
                        else 'cpu')
    args = parser.parse_args()
    mtlbox.register_all_modules()
    torch.manual_seed(0)
    model, cfg = build_model(args.batch_size)
    model.to(args.device)
    entries = balancer_configs()
    if args.only:
        keep = set(args.only.split(',')) | {'EW', 'floor'}
        entries = [e for e in entries if e[0] in keep]
    balancers = {}
    for name, bcfg, kind in entries:
        bal = GradFloor(list(TASKS)) if bcfg is None else BALANCERS.build(
            dict(bcfg, tasks=list(TASKS)))
        balancers[name] = (bal.to(args.device), kind)
    batches = make_batches(cfg, 4, args.batch_size, seed=0)
    val = make_batches(cfg, 2, args.batch_size, seed=1)
    for bal, _ in balancers.values():  # SLGrad, AutoLambda
        if hasattr(bal, 'set_val_batches'):
            bal.set_val_batches(val)
    from mmengine.optim import OptimWrapper
    sync = (torch.cuda.synchronize if args.device.startswith('cuda')
            else lambda: None)
    times = {name: [] for name in balancers}
    for round_ in range(args.warmup + args.steps):
        for name, (bal, kind) in balancers.items():
            model.balancer = bal
            ow = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-4))
            batch = batches[round_ % len(batches)]
            sync()
            start = time.perf_counter()
            model.train_step(batch, ow)
            sync()
            if round_ >= args.warmup:
                times[name].append(time.perf_counter() - start)
        print(f'round {round_ + 1}/{args.warmup + args.steps} done',
              file=sys.stderr, flush=True)
    isolated = isolated_costs(model, balancers, batches[0], args.device)
    med = {n: statistics.median(t) for n, t in times.items()}
    best = {n: min(t) for n, t in times.items()}
    base, floor = med['EW'], med['floor']
    img_size = cfg.train_dataloader.dataset.img_size
    print(f'device={args.device} threads={torch.get_num_threads()} '
          f'batch={args.batch_size} img={img_size} steps={args.steps} '
          f'(median after {args.warmup} warm-up rounds)')
    engine = model.step_strategy('grads').engine
    timings = engine.timings
    print(f'per-task gradient engine (auto): '
          f'{engine.choice or "unmeasured"} (measured G alone: sequential '
          f'{timings.get("sequential", float("nan")):.4f}s, batched VJP '
          f'{timings.get("batched", float("nan")):.4f}s)')
    print(f'{"balancer":<13}{"kind":<9}{"median [s]":>11}{"/ EW":>8}'
          f'{"/ floor":>9}{"min: / EW":>11}{"/ floor":>9}'
          f'{"isolated":>10}  target (median)')
    for name, (_, kind) in balancers.items():
        ratio_floor = med[name] / floor
        if kind == 'loss':
            ok = med[name] / base <= 1.03
            target = f'<= 1.03x EW: {"ok" if ok else "MISS"}'
        elif kind == 'grad':
            ok = ratio_floor <= 1.15
            target = f'<= 1.15x floor: {"ok" if ok else "MISS"}'
        else:
            target = '-'
        print(f'{name:<13}{kind:<9}{med[name]:>11.4f}{med[name] / base:>8.3f}'
              f'{ratio_floor:>9.3f}{best[name] / best["EW"]:>11.3f}'
              f'{best[name] / best["floor"]:>9.3f}'
              f'{isolated_ratio(name, kind, isolated, med):>10}  {target}',
              flush=True)
    print('isolated: 1 + (own cost of weigh/aggregate - that of EW/floor) / '
          'median step of EW/floor, the own cost timed alone on the real '
          'losses / G of the demo model (robust to machine load)')


if __name__ == '__main__':
    main()
