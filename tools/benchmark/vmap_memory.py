"""Peak memory of one convolution's per-task weight gradients, by engine.

What bounds the Gramian engine's memory (``grad_engine='gramian'``): its
hooks fold each shared tensor's [T, *shape] gradient block into M and free
it, so the issue's bound is T x the largest shared tensor + T^2. Where the
largest tensor is a convolution weight, the block comes out of PyTorch's
batched (vmapped) convolution weight gradient, and this script measures
what that costs by itself on one layer of the task-scaling model:
ResNet-18's layer4 convolution (512 -> 512, 3x3, 2.36 M values) on its
2x2 input of a 64x64 image, batch ``--batch-size``, T linear losses:

- ``batched``: one ``torch.autograd.grad(..., is_grads_batched=True)`` for
  the T tasks (what the Gramian engine runs);
- ``sequential``: T ``autograd.grad`` calls, every result kept (the
  per-tensor path's T rows);
- ``batched x C``: the batched call on C tasks at a time, each result
  dropped before the next (what a chunked engine would hold; its result
  column is one chunk's);
- ``from inputs``: what the Gramian engine does for such a convolution,
  the weight's share of M [T, T] as ``tr(D_i K D_j^T)`` from the input
  and the T output gradients (``conv_gramian.conv_weight_gram``), no
  weight gradient formed (its result column is M's size).

Each row: the peak RSS during the call over the RSS before it, each call
in a fresh interpreter with every block above 128 KiB mapped on its own
(``task_scaling.MappedLargeBlocks``; median over ``--repeats``), and the
size of the gradients it returns, in MiB. Usage::

    python tools/benchmark/vmap_memory.py [--tasks 40] [--batch-size 16] \\
        [--chunk 8] [--repeats 3]
"""
import argparse
import json
import os.path as osp
import statistics
import subprocess
import sys

import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from task_scaling import MappedLargeBlocks, PeakRSS, trim_heap  # noqa: E402

from mtlbox.balancers.conv_gramian import conv_weight_gram  # noqa: E402

MIB = 2**20


def run_engine(engine, num_tasks, batch_size, chunk):
    """(peak RSS MiB over the start, MiB of the gradients returned) of one
    engine's call, in this process."""
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(512, 512, 3, padding=1, bias=False)
    x = torch.randn(batch_size, 512, 2, 2)
    y = conv(x)
    probes = torch.randn(num_tasks, *y.shape)
    losses = torch.stack([(y * probes[t]).sum() for t in range(num_tasks)])

    def batched(part):
        return torch.autograd.grad(part, [conv.weight], torch.eye(len(part)),
                                   retain_graph=True, is_grads_batched=True)

    def call():
        if engine == 'inputs':
            M = torch.zeros(num_tasks, num_tasks)
            conv_weight_gram(x, conv, probes, M)
            return M.numel()
        if engine == 'batched':
            return _numel(batched(losses))
        if engine == 'sequential':
            return _numel([torch.autograd.grad(losses[t], [conv.weight],
                                               retain_graph=True)[0]
                           for t in range(num_tasks)])
        # chunked: each chunk's result dropped before the next
        return max(_numel(batched(losses[start:start + chunk]))
                   for start in range(0, num_tasks, chunk))

    trim_heap()
    with MappedLargeBlocks(), PeakRSS() as mem:
        numel = call()
    return mem.delta / MIB, numel * 4 / MIB


def _numel(tensors):
    return sum(t.numel() for t in tensors)


def measure(num_tasks, batch_size, chunk, repeats, threads=1):
    """[(row, median peak MiB, result MiB)] for the four engines, each
    call in a fresh interpreter (an allocator that has served another
    engine hands out pages it already holds, which RSS does not see),
    every large block mapped on its own (``MappedLargeBlocks``): the same
    figures to the MiB on every run, where the default heap moved them by
    a factor of two."""
    rows = []
    for engine in ('batched', 'sequential', 'chunked', 'inputs'):
        peaks = []
        for _ in range(repeats):
            out = subprocess.run(
                [sys.executable, osp.abspath(__file__), '--engine', engine,
                 '--tasks', str(num_tasks), '--batch-size', str(batch_size),
                 '--chunk', str(chunk), '--threads', str(threads)],
                check=True, capture_output=True, text=True).stdout
            peak, size = json.loads(out.strip().splitlines()[-1])
            peaks.append(peak)
        name = {'chunked': f'batched x {chunk}',
                'inputs': 'from inputs'}.get(engine, engine)
        rows.append((name, statistics.median(peaks), size))
    return rows


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--tasks', type=int, default=40)
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--chunk', type=int, default=8)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--engine', choices=('batched', 'sequential',
                                             'chunked', 'inputs'),
                        help='measure one engine in this process and print '
                             '[peak MiB, result MiB] as JSON (used by the '
                             'table, one fresh process per call)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.engine:
        print(json.dumps(run_engine(args.engine, args.tasks,
                                    args.batch_size, args.chunk)))
        return None
    rows = measure(args.tasks, args.batch_size, args.chunk, args.repeats,
                   args.threads)
    print(f'T={args.tasks} batch={args.batch_size} conv 512->512 3x3 on '
          f'2x2 maps; median of {args.repeats} (peak RSS over the start)')
    print(f'{"engine":<16}{"peak MiB":>10}{"result MiB":>12}'
          f'{"peak/result":>13}')
    for name, peak, size in rows:
        ratio = f'{peak / size:.2f}' if size >= 1 else '-'
        print(f'{name:<16}{peak:>10.0f}{size:>12.2f}{ratio:>13}')
    return rows


if __name__ == '__main__':
    main()
