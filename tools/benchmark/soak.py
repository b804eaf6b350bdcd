"""Soak run: many training steps, resident memory and balancer state sizes.

``python tools/benchmark/soak.py --iters 3000 --balancer PCGrad``

Trains the demo architecture (small input) on SynthScenes through
``MultiTaskModel.train_step`` with an ``OptimWrapper`` and prints, every
``--every`` iterations, the process's resident memory (RSS, from
/proc/self/statm) and the number of elements held in the balancer's state
(buffers, parameters and Python-side tensors). A leak shows as a growing RSS
or state size; a healthy run is flat after the first few hundred steps.
"""
import argparse
import os
import time

import torch


def rss_mib() -> float:
    with open('/proc/self/statm') as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf('SC_PAGE_SIZE') / 2**20


def state_numel(balancer) -> int:
    n = sum(t.numel() for t in balancer.state_dict().values()
            if torch.is_tensor(t))
    for value in vars(balancer).values():  # tensors kept outside buffers
        if torch.is_tensor(value):
            n += value.numel()
        elif isinstance(value, (list, tuple, dict)):
            items = value.values() if isinstance(value, dict) else value
            n += sum(v.numel() for v in items if torch.is_tensor(v))
    return n


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--iters', type=int, default=3000)
    parser.add_argument('--every', type=int, default=250)
    parser.add_argument('--balancer', default='PCGrad')
    parser.add_argument('--img-size', type=int, default=48)
    parser.add_argument('--batch-size', type=int, default=4)
    args = parser.parse_args()

    import mtlbox
    mtlbox.register_all_modules()
    from mmengine.dataset import pseudo_collate
    from mmengine.optim import OptimWrapper

    from mtlbox.datasets import SynthScenes
    from mtlbox.registry import MODELS
    torch.manual_seed(0)
    channels = 32
    model = MODELS.build(dict(
        type='MultiTaskModel',
        backbone=dict(type='ResNet', depth=18, out_indices=(1, 2, 3)),
        neck=dict(type='FPN', in_channels=[128, 256, 512],
                  out_channels=channels),
        heads=dict(
            seg=dict(type='SegHead', in_channels=[channels] * 3,
                     num_classes=6, channels=channels),
            depth=dict(type='DepthHead', in_channels=[channels] * 3,
                       channels=channels),
            normal=dict(type='NormalHead', in_channels=[channels] * 3,
                        channels=channels)),
        balancer=dict(type=args.balancer)))
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3),
                         clip_grad=dict(max_norm=10.0))
    ds = SynthScenes(num_samples=64, img_size=args.img_size, cache=True,
                     tasks=('seg', 'depth', 'normal'),
                     label_prob=dict(depth=0.7, normal=0.7),
                     pipeline=[dict(type='PackMTLInputs')])
    batches = [pseudo_collate([ds[i] for i in range(j, j + args.batch_size)])
               for j in range(0, len(ds), args.batch_size)]
    print(f'balancer={args.balancer} iters={args.iters} '
          f'img={args.img_size} batch={args.batch_size}')
    print(f'{"iter":>6} {"rss_MiB":>9} {"state_numel":>12} {"loss":>8} '
          f'{"s/iter":>7}')
    start, rows = time.time(), []
    for it in range(1, args.iters + 1):
        logs = model.train_step(batches[it % len(batches)], optim)
        if it % args.every == 0 or it == 1:
            elapsed = (time.time() - start) / it
            rows.append((it, rss_mib(), state_numel(model.balancer)))
            print(f'{it:>6} {rows[-1][1]:>9.1f} {rows[-1][2]:>12} '
                  f'{float(logs["loss"]):>8.4f} {elapsed:>7.3f}', flush=True)
    # growth between the first quarter and the end (after warm-up)
    ref = rows[min(len(rows) - 1, max(1, len(rows) // 4))]
    print(f'RSS growth after warm-up: {rows[-1][1] - ref[1]:+.1f} MiB; '
          f'balancer state: {ref[2]} -> {rows[-1][2]} elements')


if __name__ == '__main__':
    main()
