"""Step time of mtlbox's balancers next to LibMTL's and TorchJD's, in one run.

One model, one batch, one optimiser (Adam) for everyone: the demo model of
:mod:`tools.benchmark.balancers` (ResNet-18 + FPN, hard sharing, seg/depth/
normal heads) at LibMTL's HPS setting (batch 4 at 128x160 here), driven by

- ``mtlbox``: ``MultiTaskModel.train_step`` with the balancer swapped in;
- ``LibMTL``: its weighting classes (``LibMTL/weighting/*.py``, loaded from
  ``--libmtl PATH``) called as its Trainer calls them (``zero_grad`` ->
  ``weighting.backward(losses, **weight_args)`` -> ``optimizer.step``), on
  the CPU through a thin adapter that supplies the attributes its
  ``MTLmodel`` would (its Trainer hard-codes ``cuda:0``);
- ``TorchJD-autojac``: ``torchjd.autojac.mtl_backward`` on the trunk's maps,
  then ``jac_to_grad`` with the aggregator;
- ``TorchJD-autogram``: the ``torchjd.autogram.Engine`` Gramian of the
  per-task losses over the trunk (``batch_dim=None``: the trunk has
  BatchNorm), the aggregator's Gramian weighting, ``losses.backward(w)``.

TorchJD is imported from ``--torchjd PATH`` (a ``pip install --target``
folder, which may also hold the peers' optional solvers: cvxpy, qpsolvers). A peer that is not given, or a method whose
module cannot be imported (LibMTL's Nash-MTL and TorchJD's CAGrad/Nash-MTL
need cvxpy; LibMTL's UPGrad needs qpsolvers), is skipped with a printed line.

The steps run round-robin, so machine load hits all alike, and every
ratio is **paired**: the implementations of one method run next to the
method's own two reference steps, the strict floor and mtlbox's plain sum
(before the method's steps in one round, after them in the next), and each
ratio is the median over the rounds after warm-up of a step's time over the
reference measured beside it in the same round. On a shared machine whose
speed drifts by 20-40 % within a minute (steal time of a virtual machine)
this is what keeps the ratios steady; the times of a whole round would not
be comparable. The columns:

- ``ms/step``: the median of the step's raw times (for orientation only);
- ``/ EW``: over mtlbox's plain-sum step (forward, one backward, Adam
  step);
- ``/ floor`` and ``q1-q3`` (its quartiles over the rounds): over the
  strict floor of gradient-level methods, timed with its own function: the
  forward, then per task one ``torch.autograd.grad`` over the shared
  parameters and that task's head, each result put in ``.grad`` as it is
  (no concatenation, no copy, no combination), and the Adam step;
- ``peer/mtlbox``: the peer's step over mtlbox's for the same method in the
  same round (> 1: mtlbox is faster).

Usage::

    python tools/benchmark/vs_peers.py --libmtl /tmp/libmtl \\
        --torchjd /tmp/torchjd [--steps 5] [--warmup 1] [--only PCGrad,MGDA] \\
        [--features] [--gramian] [--memory 3]

``--features`` adds ``mtlbox-features`` rows (the method at ``level=
'features'``: per-task gradients of the trunk's output maps, one backward
through the trunk); ``--gramian`` adds ``mtlbox-gramian`` rows
(``grad_engine='gramian'``) for the methods whose weights depend on the
Gram matrix only, and ``mtlbox-gramian-hooks`` rows (the same engine with
every shared tensor through its [T, *shape] hook, no convolution's share
taken from its input: what the convolution shares save); ``--memory N`` adds
N rounds measuring each step's peak RSS, the median printed as MiB over the
plain sum's step (the floor's row is what T per-task gradients cost by
themselves).

Threads default to 1 (``--threads``) so a shared machine gives stable
ratios. LibMTL and TorchJD are never imported by mtlbox itself.
"""
import argparse
import importlib
import os.path as osp
import statistics
import sys
import time
import types

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import balancers as bench  # noqa: E402  (puts the repository on sys.path)
from task_scaling import (MappedLargeBlocks, PeakRSS,  # noqa: E402
                          grads_step, trim_heap)

import mtlbox  # noqa: E402
from mtlbox.registry import BALANCERS  # noqa: E402

TASKS = bench.TASKS
IMG_SIZE = (128, 160)

# LibMTL's weight_args at the defaults of its LibMTL/config.py parser
LIBMTL_ARGS = dict(mgda_gn='none', GradVac_beta=0.5, GradVac_group_type=0,
                   alpha=1.5, calpha=0.5, rescale=1, update_weights_every=1,
                   optim_niter=20, max_norm=1.0, DB_beta=0.9,
                   DB_beta_sigma=0.0, UPGrad_norm_eps=1e-4,
                   UPGrad_reg_eps=1e-4, MoCo_beta=0.5, MoCo_beta_sigma=0.5,
                   MoCo_gamma=0.1, MoCo_gamma_sigma=0.5, MoCo_rho=0.0)


def methods():
    """(row, mtlbox config, LibMTL module/class, TorchJD aggregator name and
    arguments); None where that implementation does not have the method.
    Hyper-parameters follow the peers' defaults where they differ."""
    return [
        ('EW', dict(type='EW'), ('EW', 'EW'), None),
        ('PCGrad', dict(type='PCGrad'), ('PCGrad', 'PCGrad'),
         ('PCGrad', {})),
        ('MGDA', dict(type='MGDA'), ('MGDA', 'MGDA'), ('MGDA', {})),
        ('CAGrad', dict(type='CAGrad', alpha=0.5), ('CAGrad', 'CAGrad'),
         ('CAGrad', dict(c=0.5))),
        ('IMTL', dict(type='IMTL'), ('IMTL', 'IMTL'), None),
        ('IMTL-G', dict(type='IMTL-G'), None, ('IMTLG', {})),
        ('GradNorm', dict(type='GradNorm'), ('GradNorm', 'GradNorm'), None),
        ('Nash-MTL', dict(type='Nash-MTL'), ('Nash_MTL', 'Nash_MTL'),
         ('NashMTL', dict(n_tasks=len(TASKS)))),
        ('Aligned-MTL', dict(type='Aligned-MTL'),
         ('Aligned_MTL', 'Aligned_MTL'), ('AlignedMTL', {})),
        ('UPGrad', dict(type='UPGrad'), ('UPGrad', 'UPGrad'),
         ('UPGrad', {})),
        ('DB-MTL', dict(type='DB-MTL'), ('DB_MTL', 'DB_MTL'), None),
        ('MoCo', dict(type='MoCo'), ('MoCo', 'MoCo'), None),
        ('GradVac', dict(type='GradVac', beta=0.5), ('GradVac', 'GradVac'),
         ('GradVac', dict(beta=0.5))),
    ]


# ----------------------------------------------------------------- helpers
class Bench:
    """The shared model, batches and optimiser, and the pieces of a step
    every implementation uses alike (preprocessing, forward)."""

    def __init__(self, batch_size, num_batches=2):
        torch.manual_seed(0)
        self.model, cfg = bench.build_model(batch_size)
        cfg.train_dataloader.dataset.img_size = IMG_SIZE
        self.batches = bench.make_batches(cfg, num_batches, batch_size, 0)
        self.model.train()
        # the mtlbox rows: the per-tensor path ('auto' would try the
        # Gramian engine on some timed steps; at T = 3 it keeps this one)
        self.model.step_strategy('grads').engine.path_choice = 'tensors'
        self.shared = self.model.shared_parameters()
        self.heads = {t: self.model.task_parameters(t) for t in TASKS}
        self.trunk_modules = [m for m in (self.model.backbone,
                                          self.model.neck) if m is not None]
        own = [p for p in self.shared]
        for t in TASKS:
            own += self.heads[t]
        # one Adam for the model; methods with parameters of their own
        # (GradNorm, IMTL) add a group (their gradients are None otherwise,
        # so a group costs nothing in another method's step)
        self.optimizer = torch.optim.Adam(own, lr=1e-4)
        self._groups = set()

    def add_params(self, module):
        params = [p for p in module.parameters() if p.requires_grad]
        if params and id(module) not in self._groups:
            self._groups.add(id(module))
            self.optimizer.add_param_group(dict(params=params))

    def forward(self, batch):
        """(per-task loss dict, trunk maps), as ``train_step`` computes
        them."""
        model = self.model
        data = model.data_preprocessor(batch, True)
        losses, _, trunk = model._loss_and_features(data['inputs'],
                                                    data['data_samples'])
        return model.task_losses(losses), trunk


class Impl:
    """One timed step; ``prepare``/``cleanup`` run outside the timer."""

    def __init__(self, method, impl, step, prepare=None, cleanup=None):
        self.method, self.impl, self.step = method, impl, step
        self.prepare, self.cleanup = prepare, cleanup


def mtlbox_impl(b, method, cfg, engine='auto', level='grads'):
    """``train_step`` with the balancer swapped in; ``engine='gramian'``:
    the step of ``grad_engine='gramian'`` (kept across rounds, swapped in
    for the model's own in ``prepare`` and back in ``cleanup``);
    ``'gramian-hooks'``: the same with every shared tensor through the
    [T, *shape] hooks (no convolution share from its inputs: its forward
    records nothing); ``level='features'``: the balancer at feature
    level."""
    from mmengine.optim import OptimWrapper

    if level != 'grads':
        cfg = dict(cfg, level=level)
    balancer = BALANCERS.build(dict(cfg, tasks=list(TASKS)))
    b.add_params(balancer)
    wrapper = OptimWrapper(b.optimizer)
    own_step = grads_step(engine, method) if engine != 'auto' else None
    held = {}

    def prepare():
        b.model.balancer = balancer
        b.optimizer.zero_grad(set_to_none=True)
        if own_step is not None:
            held['step'] = b.model._steps.get('grads')
            b.model._steps['grads'] = own_step

    def cleanup():
        if own_step is not None:
            b.model._steps.pop('grads')
            if held.get('step') is not None:
                b.model._steps['grads'] = held.pop('step')

    def step(batch):
        b.model.train_step(batch, wrapper)
    name = 'mtlbox' if engine == 'auto' else f'mtlbox-{engine}'
    if level != 'grads':
        name = f'mtlbox-{level}'
    return Impl(method, name, step, prepare, cleanup)


def floor_impl(b):
    tasks = list(TASKS)

    def step(batch):
        per_task, _ = b.forward(batch)
        for i, task in enumerate(tasks):
            params = b.shared + b.heads[task]
            grads = torch.autograd.grad(per_task[task], params,
                                        retain_graph=i < len(tasks) - 1)
            # the first task's shared gradients stand in for the update;
            # every head gets its own: no copy, no combination
            for p, g in zip(params if i == 0 else b.heads[task],
                            grads if i == 0 else grads[len(b.shared):]):
                p.grad = g
        b.optimizer.step()
        b.optimizer.zero_grad(set_to_none=True)
    return Impl('floor', 'strict', step)


# ------------------------------------------------------------------ LibMTL
def load_libmtl(root):
    """``LibMTL.weighting`` submodules importable one by one from ``root``
    (the folder holding ``LibMTL/``) without running the package
    ``__init__``s, which import every method (cvxpy, qpsolvers, ...)."""
    pkg_dir = osp.join(root, 'LibMTL')
    if not osp.isfile(osp.join(pkg_dir, 'weighting', 'abstract_weighting.py')):
        raise SystemExit(f'--libmtl {root}: {pkg_dir}/weighting/'
                         'abstract_weighting.py not found; expected a '
                         'checkout of median-research-group/LibMTL')
    for name, path in (('LibMTL', pkg_dir),
                       ('LibMTL.weighting', osp.join(pkg_dir, 'weighting'))):
        if name not in sys.modules:
            module = types.ModuleType(name)
            module.__path__ = [path]
            sys.modules[name] = module


class LibMTLAdapter:
    """What LibMTL's ``MTLmodel`` (architecture x weighting) gives a
    weighting class, for the benchmark's model on the CPU. Mixed in front of
    the weighting class: ``type(name, (LibMTLAdapter, Weighting), {})``."""

    def __init__(self, model, tasks):
        super().__init__()
        self.task_name = list(tasks)
        self.task_num = len(tasks)
        self.device = torch.device('cpu')
        self.rep_grad = False
        self.epoch = 1  # GradNorm is plain EW in LibMTL's first epoch
        self.train_loss_buffer = np.ones((self.task_num, 2))
        self._shared = model.shared_parameters()
        self.init_param()

    def get_share_params(self):
        return iter(self._shared)

    def zero_grad_share_params(self):
        for p in self._shared:  # encoder.zero_grad(set_to_none=False)
            if p.grad is not None:
                p.grad.zero_()


def libmtl_impl(b, method, module_name, class_name):
    module = importlib.import_module(f'LibMTL.weighting.{module_name}')
    cls = getattr(module, class_name)
    weighting = type(f'LibMTL{class_name}', (LibMTLAdapter, cls), {})(
        b.model, TASKS)
    b.add_params(weighting)

    def step(batch):
        per_task, _ = b.forward(batch)
        losses = torch.stack([per_task[t] for t in TASKS])
        b.optimizer.zero_grad(set_to_none=False)
        weighting.backward(losses, **LIBMTL_ARGS)
        b.optimizer.step()
        b.optimizer.zero_grad(set_to_none=True)
    return Impl(method, 'LibMTL', step)


# ----------------------------------------------------------------- TorchJD
def torchjd_impls(b, method, agg_name, agg_args):
    import torchjd.aggregation as tja
    from torchjd.autojac import jac_to_grad, mtl_backward
    aggregator = getattr(tja, agg_name)(**agg_args)
    heads = [b.heads[t] for t in TASKS]

    def autojac(batch):
        per_task, trunk = b.forward(batch)
        mtl_backward([per_task[t] for t in TASKS], features=list(trunk),
                     tasks_params=heads, shared_params=b.shared)
        jac_to_grad(b.shared, aggregator)
        b.optimizer.step()
        b.optimizer.zero_grad(set_to_none=True)
    out = [Impl(method, 'TorchJD-autojac', autojac)]
    weighting = getattr(aggregator, 'gramian_weighting', None)
    if weighting is None:
        print(f'skip {method} TorchJD-autogram: {agg_name} is not a '
              'Gramian-weighted aggregator', flush=True)
        return out
    from torchjd.autogram import Engine
    held = {}

    def prepare():  # the engine's forward hooks must not slow the others
        held['engine'] = Engine(*b.trunk_modules, batch_dim=None)

    def cleanup():
        engine = held.pop('engine')
        engine._module_hook_manager._finalizer()  # removes its hooks

    def autogram(batch):
        per_task, _ = b.forward(batch)
        losses = torch.stack([per_task[t] for t in TASKS])
        gramian = held['engine'].compute_gramian(losses)
        losses.backward(weighting(gramian))
        b.optimizer.step()
        b.optimizer.zero_grad(set_to_none=True)
    out.append(Impl(method, 'TorchJD-autogram', autogram, prepare, cleanup))
    return out


# -------------------------------------------------------------------- main
def build_impls(b, args):
    impls = [floor_impl(b)]
    skipped = []
    if args.libmtl:
        load_libmtl(args.libmtl)
    else:
        skipped.append('LibMTL: not given (--libmtl PATH)')
    has_torchjd = False
    if args.torchjd:
        sys.path.insert(0, args.torchjd)
        try:
            importlib.import_module('torchjd')
            has_torchjd = True
        except ImportError as err:
            skipped.append(f'TorchJD: not importable from {args.torchjd} '
                           f'({err})')
    else:
        skipped.append('TorchJD: not given (--torchjd PATH)')
    keep = set(args.only.split(',')) | {'EW'} if args.only else None
    for method, cfg, lib, jd in methods():
        if keep is not None and method not in keep:
            continue
        impls.append(mtlbox_impl(b, method, cfg))
        probe = BALANCERS.build(dict(cfg, tasks=list(TASKS)))
        if args.gramian and probe.gramian:
            impls.append(mtlbox_impl(b, method, cfg, 'gramian'))
            impls.append(mtlbox_impl(b, method, cfg, 'gramian-hooks'))
        if args.features and probe.needs == 'grads':
            impls.append(mtlbox_impl(b, method, cfg, level='features'))
        if lib is not None and args.libmtl:
            try:
                impls.append(libmtl_impl(b, method, *lib))
            except ImportError as err:
                skipped.append(f'{method} LibMTL: {err}')
        if jd is not None and has_torchjd:
            try:
                impls += torchjd_impls(b, method, *jd)
            except ImportError as err:
                skipped.append(f'{method} TorchJD: {err}')
    return impls, skipped


def groups(impls):
    """(floor, plain sum, [[the impls of one method], ...]) in the order of
    ``impls``; the plain sum's own group holds its peers' EW rows."""
    floor = next(i for i in impls if i.method == 'floor')
    plain = next(i for i in impls if (i.method, i.impl) == ('EW', 'mtlbox'))
    out = []
    for impl in impls:
        if impl is floor or impl is plain:
            continue
        if not out or out[-1][0].method != impl.method:
            out.append([])
        out[-1].append(impl)
    if not any(g[0].method == 'EW' for g in out):
        out.insert(0, [])  # the plain sum's group, without peers
    return floor, plain, out


def timed_step(impl, batch):
    """Seconds of one step (``prepare``/``cleanup`` untimed); None when a
    peer's step raises (it is reported and dropped; mtlbox's re-raises)."""
    if impl.prepare:
        impl.prepare()
    try:
        start = time.perf_counter()
        impl.step(batch)
        return time.perf_counter() - start
    except Exception as err:  # a peer broken on this torch version
        if impl.impl.startswith('mtlbox') or impl.impl == 'strict':
            raise
        print(f'skip {impl.method} {impl.impl}: {type(err).__name__}: '
              f'{str(err).splitlines()[0]}', flush=True)
        return None
    finally:
        if impl.cleanup:
            impl.cleanup()


def run_rounds(impls, batches, rounds, warmup):
    """Paired step times: ``{(method, impl): dict(ms, floor, q1, q3, ew,
    peer)}`` (in the order of ``impls``, from which a failing peer is
    removed) with the medians over the timed rounds of the raw time and of
    the per-round ratios to the floor and the plain sum measured beside the
    step (``peer``: over mtlbox's step of the same method and round)."""
    floor, plain, method_groups = groups(impls)
    raw = {(i.method, i.impl): [] for i in impls}
    ratios = {key: dict(floor=[], ew=[], peer=[]) for key in raw}
    dropped = set()
    for round_ in range(warmup + rounds):
        batch = batches[round_ % len(batches)]
        for g, members in enumerate(method_groups):
            members = [i for i in members if id(i) not in dropped]
            refs = [floor, plain]
            # the references before the method in one round, after it in
            # the next: neither side always meets the other's heap state
            order = refs + members if (round_ + g) % 2 == 0 \
                else members + refs[::-1]
            times = {}
            for impl in order:
                sec = timed_step(impl, batch)
                if sec is None:
                    dropped.add(id(impl))
                    continue
                times[id(impl)] = sec
            if round_ < warmup:
                continue
            t_floor, t_ew = times[id(floor)], times[id(plain)]
            # mtlbox's step of this method (the plain sum for EW's peers)
            method = members[0].method if members else plain.method
            ours = next((times[id(i)] for i in members + [plain]
                         if (i.method, i.impl) == (method, 'mtlbox')
                         and id(i) in times), None)
            for impl in order:
                if id(impl) not in times:
                    continue
                key, sec = (impl.method, impl.impl), times[id(impl)]
                raw[key].append(sec)
                ratios[key]['floor'].append(sec / t_floor)
                ratios[key]['ew'].append(sec / t_ew)
                if ours is not None and impl in members and not \
                        impl.impl.startswith('mtlbox'):
                    ratios[key]['peer'].append(sec / ours)
        print(f'round {round_ + 1}/{warmup + rounds} done', file=sys.stderr,
              flush=True)
    out = {}
    for key, secs in raw.items():
        if not secs:
            continue
        r = ratios[key]
        q1, _, q3 = (statistics.quantiles(r['floor'], n=4)
                     if len(r['floor']) > 1 else [r['floor'][0]] * 3)
        out[key] = dict(ms=statistics.median(secs) * 1e3,
                        floor=statistics.median(r['floor']), q1=q1, q3=q3,
                        ew=statistics.median(r['ew']),
                        peer=statistics.median(r['peer'])
                        if r['peer'] else None)
    impls[:] = [i for i in impls if id(i) not in dropped]
    return out


def measure_memory(impls, batches, rounds=3):
    """{(method, impl): median over ``rounds`` of the peak RSS during one
    step minus the RSS before it, in bytes}. Before each step the freed
    heap is handed back to the system (``malloc_trim``), and every large
    block is mapped on its own while the rounds run
    (``MappedLargeBlocks``), so what the step allocates shows in the RSS
    (``PeakRSS`` of task_scaling.py)."""
    peaks = {(i.method, i.impl): [] for i in impls}
    with MappedLargeBlocks():
        for round_ in range(rounds):
            for impl in impls:
                if impl.prepare:
                    impl.prepare()
                trim_heap()
                with PeakRSS() as mem:
                    impl.step(batches[round_ % len(batches)])
                if impl.cleanup:
                    impl.cleanup()
                peaks[(impl.method, impl.impl)].append(mem.delta)
    return {k: statistics.median(v) for k, v in peaks.items()}


def format_table(med, peaks=None):
    """Lines of the table: one row per (method, implementation), from
    :func:`run_rounds`; with ``peaks``, the step's peak memory over the
    plain sum's."""
    lines = [f'{"method":<13}{"implementation":<22}{"ms/step":>9}'
             f'{"/ EW":>8}{"/ floor":>9}{"q1-q3":>11}{"peer/mtlbox":>13}'
             + (f'{"+MiB vs EW":>12}' if peaks else '')]
    for (method, impl), row in med.items():
        speed = '-' if row['peer'] is None else f'{row["peer"]:.2f}'
        spread = f'{row["q1"]:.2f}-{row["q3"]:.2f}'
        line = (f'{method:<13}{impl:<22}{row["ms"]:>9.1f}'
                f'{row["ew"]:>8.2f}{row["floor"]:>9.2f}{spread:>11}'
                f'{speed:>13}')
        if peaks:
            extra = (peaks[(method, impl)] - peaks[('EW', 'mtlbox')])
            line += f'{extra / 2**20:>12.0f}'
        lines.append(line)
    return lines


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--libmtl', help='folder holding LibMTL/ (a '
                        'checkout of median-research-group/LibMTL)')
    parser.add_argument('--torchjd', help='folder to put on sys.path for '
                        'torchjd (pip install --target DIR torchjd)')
    parser.add_argument('--steps', type=int, default=5,
                        help='timed rounds (medians are reported)')
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--only', default='',
                        help='comma-separated methods (EW always runs)')
    parser.add_argument('--gramian', action='store_true',
                        help="also time grad_engine='gramian' for the "
                        'methods that support it (mtlbox-gramian rows)')
    parser.add_argument('--features', action='store_true',
                        help="also time every gradient method at level="
                        "'features' (mtlbox-features rows)")
    parser.add_argument('--memory', type=int, default=0, metavar='ROUNDS',
                        help='ROUNDS more rounds measuring each step\'s peak '
                        'RSS; the median over the plain sum\'s is the '
                        '+MiB vs EW column')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    mtlbox.register_all_modules()
    b = Bench(args.batch_size)
    impls, skipped = build_impls(b, args)
    for line in skipped:
        print(f'skip {line}', flush=True)
    med = run_rounds(impls, b.batches, args.steps, args.warmup)
    peaks = measure_memory(impls, b.batches, args.memory) \
        if args.memory else None
    print(f'threads={torch.get_num_threads()} batch={args.batch_size} '
          f'img={IMG_SIZE} Adam; medians of {args.steps} interleaved rounds '
          f'after {args.warmup} warm-up, ratios paired within each round')
    for line in format_table(med, peaks):
        print(line, flush=True)


if __name__ == '__main__':
    main()
