"""Step time and peak memory of mtlbox's balancers against the number of tasks.

A CelebA-like problem: ResNet-18 (random init) on 64x64 images, hard
sharing, T binary attribute heads (``BinaryClsHead``: global average pool,
``Linear(512, 1)``, BCE), for T in ``--sizes`` (2, 5, 10, 20, 40). For each T
one model is built and ``MultiTaskModel.train_step`` (Adam) is timed for

- ``EW``: the plain sum, one backward pass;
- ``PCGrad``: a gradient-level method, T backward passes through the trunk,
  per-task gradients kept per tensor (the per-tensor path, pinned);
- ``PCGrad-gram``: the same with ``grad_engine='gramian'`` (one vmapped
  backward folding each tensor's [T, *shape] block into the Gram matrix,
  the convolutions on small maps adding their share from their inputs,
  then one backward of the weighted sum);
- ``PCGrad-hooks``: the Gramian engine with every tensor through its
  [T, *shape] block (what the convolution shares save);
- ``PCGrad-feat``: ``level='features'``, T backward passes through the
  heads only, one through the trunk;
- ``MGDA-UB``: MGDA at feature level;

round-robin, each method's step paired with a plain-sum step right before
or after it (alternating), and ``/ EW`` the median over the rounds after
warm-up of the method's time over the plain sum's beside it (this
machine's speed drifts by 20-40 % within a minute; ``ms/step`` are raw
medians). Memory is the peak resident set size (RSS, ``/proc/self/statm``
polled every millisecond by a thread) during a step minus the RSS just
before it, in one more step of each after the timed rounds, with the freed
heap handed back to the system first (``malloc_trim``) and every block
above 128 KiB mapped on its own (:class:`MappedLargeBlocks`, so the RSS
follows the live tensors): what a step adds on top of the model, the
batch and the optimiser state (torch's CPU allocations are not seen by
``tracemalloc``, hence RSS). Prints the table
and, if matplotlib is importable, draws both against T into ``--plot``.
Usage::

    python tools/benchmark/task_scaling.py [--sizes 2,5,10,20,40] \\
        [--steps 2] [--warmup 1] [--batch-size 8] \\
        [--plot docs/img/task_scaling.png]

The defaults take about 3 minutes on one CPU thread of a 2-core machine
(PCGrad at T = 40 is most of it); the figures in docs/balancers.md use
``--batch-size 16 --steps 5``, 11 minutes on the idle 2-core machine.

Threads default to 1 (``--threads``), so ratios are stable on a shared
machine.
"""
import argparse
import contextlib
import ctypes
import gc
import os
import os.path as osp
import statistics
import sys
import threading
import time

import torch

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))

import mtlbox  # noqa: E402
from mtlbox.registry import BALANCERS, MODELS  # noqa: E402

#: (row, balancer config, grad_engine)
METHODS = (('EW', dict(type='EW'), 'auto'),
           ('PCGrad', dict(type='PCGrad'), 'auto'),
           ('PCGrad-gram', dict(type='PCGrad'), 'gramian'),
           ('PCGrad-hooks', dict(type='PCGrad'), 'gramian-hooks'),
           ('PCGrad-feat', dict(type='PCGrad', level='features'), 'auto'),
           ('MGDA-UB', dict(type='MGDA-UB'), 'auto'))
IMG = 64
PAGE = os.sysconf('SC_PAGE_SIZE')


def task_names(num):
    return [f'attr{i:02d}' for i in range(num)]


def build_model(num_tasks):
    return MODELS.build(dict(
        type='MultiTaskModel',
        data_preprocessor=dict(type='MTLDataPreprocessor',
                               mean=(0.0, 0.0, 0.0),
                               std=(255.0, 255.0, 255.0), bgr_to_rgb=True,
                               pad_size_divisor=1),
        backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
        architecture=dict(type='HPS'),
        heads={name: dict(type='BinaryClsHead', in_channels=512,
                          label_index=i)
               for i, name in enumerate(task_names(num_tasks))},
        balancer=dict(type='EW')))


def make_batches(num_tasks, batch_size, num, seed=0):
    """Random 64x64 images, every attribute labelled with a random 0/1."""
    from mmengine.structures import LabelData

    from mtlbox.structures import MTLDataSample
    gen = torch.Generator().manual_seed(seed)
    tasks = task_names(num_tasks)
    batches = []
    for _ in range(num):
        inputs, samples = [], []
        for _ in range(batch_size):
            inputs.append(torch.randint(0, 256, (3, IMG, IMG), generator=gen,
                                        dtype=torch.uint8))
            sample = MTLDataSample(metainfo=dict(
                labeled_tasks=tasks, img_shape=(IMG, IMG),
                ori_shape=(IMG, IMG)))
            sample.gt_label = LabelData(label=torch.randint(
                0, 2, (num_tasks, ), generator=gen))
            samples.append(sample)
        batches.append(dict(inputs=inputs, data_samples=samples))
    return batches


def rss():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * PAGE


def trim_heap():
    """Collect garbage and hand the freed heap back to the system
    (glibc's ``malloc_trim``), so that what the next step allocates has to
    fault in fresh pages and shows in its RSS; without glibc only the
    collection runs (deltas may then under-count memory the allocator
    reuses)."""
    gc.collect()
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except OSError:
        pass


#: ``mallopt`` parameter of glibc's malloc.h
M_MMAP_THRESHOLD = -3


class MappedLargeBlocks:
    """Within the block glibc gives every allocation above 128 KiB a
    mapping of its own, unmapped when it is freed (``mallopt(
    M_MMAP_THRESHOLD)``), so the RSS follows the live large tensors
    exactly: a step's peak no longer depends on which freed heap pages the
    allocator still holds (with ``malloc_trim`` alone the same step's peak
    moved by up to 2x). On exit the threshold is 32 MiB, glibc's ceiling
    for the dynamic threshold a fixed setting switches off. No effect
    without glibc."""

    def __enter__(self):
        self._set(128 * 1024)
        return self

    def __exit__(self, *exc):
        self._set(32 * 2**20)

    @staticmethod
    def _set(value):
        try:
            ctypes.CDLL('libc.so.6').mallopt(M_MMAP_THRESHOLD, value)
        except (OSError, AttributeError):
            pass


class PeakRSS:
    """Highest RSS seen while the block runs (polled by a thread)."""

    def __enter__(self):
        self.start = self.peak = rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self):
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss())

    @property
    def delta(self):
        return self.peak - self.start


def grads_step(engine, name):
    """The gradient step of ``grad_engine=engine``; ``'gramian-hooks'``:
    the Gramian engine with every shared tensor through its [T, *shape]
    hook (its forward records no convolution input, so no convolution's
    share of M is taken from it)."""
    from mtlbox.engine.balanced_step import build_step
    step = build_step('grads', engine.split('-')[0], name)
    if engine == 'gramian-hooks':
        step.forward_context = lambda model: contextlib.nullcontext()
    return step


def measure(num_tasks, args):
    """{method: (median seconds, median of the per-round ratios to the
    plain-sum step timed beside it, peak RSS delta in bytes of one more
    step after trimming the heap)} for T."""
    from mmengine.optim import OptimWrapper

    torch.manual_seed(0)
    model = build_model(num_tasks)
    # the PCGrad row: the per-tensor path ('auto' would switch to the
    # Gramian engine within the timed steps where it is faster)
    model.step_strategy('grads').engine.path_choice = 'tensors'
    model.train()
    tasks = task_names(num_tasks)
    balancers = {name: BALANCERS.build(dict(cfg, tasks=tasks))
                 for name, cfg, _ in METHODS}
    # a row with another engine brings its own step (swapped in for it)
    own_steps = {name: grads_step(engine, name)
                 for name, _, engine in METHODS if engine != 'auto'}
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
    wrapper = OptimWrapper(optimizer)
    batches = make_batches(num_tasks, args.batch_size, 2)
    times = {name: [] for name in balancers}
    ratios = {name: [] for name in balancers}

    def step(name, trim=False):
        model.balancer = balancers[name]
        default = model._steps.get('grads')
        if name in own_steps:
            model._steps['grads'] = own_steps[name]
        optimizer.zero_grad(set_to_none=True)
        if trim:
            trim_heap()
        with PeakRSS() as mem:
            start = time.perf_counter()
            model.train_step(batch, wrapper)
            elapsed = time.perf_counter() - start
        if name in own_steps:
            model._steps.pop('grads')
            if default is not None:
                model._steps['grads'] = default
        return elapsed, mem.delta

    others = [name for name in balancers if name != 'EW']
    for round_ in range(args.warmup + args.steps):
        batch = batches[round_ % len(batches)]
        for j, name in enumerate(others):
            # paired: the plain sum right before the method in one round,
            # right after it in the next (the machine's speed drifts)
            pair = ['EW', name] if (round_ + j) % 2 == 0 else [name, 'EW']
            got = {n: step(n)[0] for n in pair}
            if round_ < args.warmup:
                continue
            for n, elapsed in got.items():
                times[n].append(elapsed)
            ratios[name].append(got[name] / got['EW'])
    ratios['EW'] = [1.0]
    # memory in a round of its own, the heap trimmed before each step (the
    # allocator would otherwise hand a step what the previous one freed)
    with MappedLargeBlocks():
        peaks = {name: step(name, trim=True)[1] for name in balancers}
    return {n: (statistics.median(times[n]), statistics.median(ratios[n]),
                peaks[n]) for n in balancers}


def format_table(results):
    lines = [f'{"T":>3}  {"method":<12}{"ms/step":>10}{"/ EW":>8}'
             f'{"peak RSS +MiB":>15}']
    for num_tasks, row in results.items():
        for name, (sec, ratio, peak) in row.items():
            lines.append(f'{num_tasks:>3}  {name:<12}{sec * 1e3:>10.1f}'
                         f'{ratio:>8.2f}{peak / 2**20:>15.1f}')
    return lines


def plot(results, path):
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        print('matplotlib not importable: no plot', flush=True)
        return
    sizes = list(results)
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(9, 3.6))
    for name, _, _ in METHODS:
        ax_t.plot(sizes, [results[t][name][1] for t in sizes], marker='o',
                  label=name)
        ax_m.plot(sizes, [results[t][name][2] / 2**20 for t in sizes],
                  marker='o', label=name)
    ax_t.set(xlabel='tasks T', ylabel='step time / EW step',
             xscale='log', xticks=sizes, xticklabels=sizes)
    ax_m.set(xlabel='tasks T', ylabel='peak RSS during a step [+MiB]',
             xscale='log', xticks=sizes, xticklabels=sizes)
    for ax in (ax_t, ax_m):
        ax.minorticks_off()
    ax_t.legend()
    ax_t.grid(alpha=0.3)
    ax_m.grid(alpha=0.3)
    fig.suptitle('ResNet-18 at 64x64, T Linear(512, 1) BCE heads (CPU)')
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    print(f'plot: {path}', flush=True)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', default='2,5,10,20,40',
                        help='comma-separated numbers of tasks')
    parser.add_argument('--steps', type=int, default=2,
                        help='timed rounds per T (the median is reported)')
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--plot', default='',
                        help='PNG to draw (e.g. docs/img/task_scaling.png)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    mtlbox.register_all_modules()
    results = {}
    for num_tasks in (int(s) for s in args.sizes.split(',')):
        results[num_tasks] = measure(num_tasks, args)
        print(f'T={num_tasks} done', file=sys.stderr, flush=True)
    print(f'threads={torch.get_num_threads()} batch={args.batch_size} '
          f'img={IMG}x{IMG} Adam; medians of {args.steps} interleaved rounds '
          f'after {args.warmup} warm-up, / EW paired; memory: peak RSS '
          'during a step minus RSS before it')
    for line in format_table(results):
        print(line, flush=True)
    if args.plot:
        plot(results, args.plot)


if __name__ == '__main__':
    main()
