"""Data-loading throughput (samples/s) of mtlbox datasets.

Built-in cases (no data needed; file layouts are written to a temporary
folder at realistic sizes with mtlbox.datasets.fixtures):

- ``synth96``  : SynthScenes 96x128 (det, seg, depth, normal), PackMTLInputs
- ``synth256`` : SynthScenes 256x256, same tasks
- ``voc``      : VOC layout, 384x512 JPEG + XML + palette PNG, load + flip +
                 pack
- ``nyuv2``    : NYUv2 mtan layout, 288x384 .npy image/label/depth/normal,
                 load + flip + pack

Usage::

    python tools/benchmark/data_throughput.py                 # every case
    python tools/benchmark/data_throughput.py --cases voc nyuv2 \
        --workers 0 2 --num-samples 200 --batch-size 8
    python tools/benchmark/data_throughput.py --config CONFIG  # a config's
                                                               # train set

Samples/s is measured over ``--num-samples`` samples (cycling over the
dataset) through a torch DataLoader with ``pseudo_collate``, after one
warm-up batch, per worker count.
"""
import argparse
import os.path as osp
import sys
import tempfile
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import torch  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

import mtlbox.datasets  # noqa: E402,F401
from mtlbox.registry import DATASETS  # noqa: E402

LOAD = [dict(type='LoadMTLImageFromFile'), dict(type='LoadMTLAnnotations')]
TAIL = [dict(type='MTLRandomFlip', prob=0.5), dict(type='PackMTLInputs')]


def case_config(name, tmp):
    if name in ('synth96', 'synth256'):
        size = (96, 128) if name == 'synth96' else (256, 256)
        return dict(type='SynthScenes', num_samples=64, img_size=size,
                    tasks=('det', 'seg', 'depth', 'normal'), pipeline=TAIL)
    if name == 'voc':
        from mtlbox.datasets.fixtures import voc
        truth = voc(osp.join(tmp, 'voc'), scale=16)
        return dict(type='VOCMTLDataset', data_root=truth['data_root'],
                    pipeline=LOAD + TAIL)
    if name == 'nyuv2':
        from mtlbox.datasets.fixtures import nyuv2_mtan
        truth = nyuv2_mtan(osp.join(tmp, 'nyuv2'), size=(288, 384))
        return dict(type='NYUv2MTANDataset', data_root=truth['data_root'],
                    pipeline=LOAD + TAIL)
    raise KeyError(f'unknown case {name!r}; use synth96 synth256 voc nyuv2')


class _Cycle(torch.utils.data.Sampler):

    def __init__(self, n, total):
        self.n, self.total = n, total

    def __iter__(self):
        return iter(i % self.n for i in range(self.total))

    def __len__(self):
        return self.total


def measure(dataset, workers, num_samples, batch_size):
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, num_workers=workers,
        sampler=_Cycle(len(dataset), num_samples + batch_size),
        collate_fn=pseudo_collate)
    it = iter(loader)
    next(it)  # warm-up: worker start, first decode
    start = time.perf_counter()
    seen = 0
    for batch in it:
        seen += len(batch['data_samples'])
    return seen / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description='data-loading throughput')
    parser.add_argument('--cases', nargs='+',
                        default=['synth96', 'synth256', 'voc', 'nyuv2'])
    parser.add_argument('--config', help='measure this config\'s '
                        'train_dataloader.dataset instead of the cases')
    parser.add_argument('--workers', nargs='+', type=int, default=[0, 2])
    parser.add_argument('--num-samples', type=int, default=160)
    parser.add_argument('--batch-size', type=int, default=8)
    args = parser.parse_args(argv)
    init_default_scope('mtlbox')
    torch.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.config:
            from mmengine import Config
            cfgs = [(osp.basename(args.config), Config.fromfile(
                args.config).train_dataloader.dataset)]
        else:
            cfgs = [(c, case_config(c, tmp)) for c in args.cases]
        for name, cfg in cfgs:
            dataset = DATASETS.build(cfg)
            for workers in args.workers:
                rate = measure(dataset, workers, args.num_samples,
                               args.batch_size)
                rows.append((name, workers, rate))
                print(f'{name:10s} workers={workers}  {rate:8.1f} samples/s',
                      flush=True)
    return rows


if __name__ == '__main__':
    main()
