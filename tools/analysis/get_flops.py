"""Parameters and FLOPs of a config's model, per component and per task.

Usage::

    python tools/analysis/get_flops.py CONFIG [--shape H W] [--json OUT]
        [--cfg-options model.backbone.depths='(4,4,4)']

What is counted:

- parameters of the backbone, the neck, the architecture (its shared part
  and each task's part) and each head; then the shared total
  (``model.shared_parameters()``, trainable only) versus each task's
  specific parameters, and what T single-task models (each a copy of the
  shared part plus that task's part) would need;
- FLOPs of one forward (batch 1, ``--shape`` input, eval mode) with
  ``torch.utils.flop_counter.FlopCounterMode``: convolutions, matmuls and
  other ops with a registered formula, counted as multiply + add (2 x MACs);
  BatchNorm, activations, pooling and interpolation are not counted. Most
  papers quote MACs as "FLOPs": divide by 2 to compare (printed as GMACs).

The data preprocessor and post-processing (NMS) are not included.
"""
import argparse
import json
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction
from torch.utils.flop_counter import FlopCounterMode


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Parameters and FLOPs per component of an mtlbox model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--shape', type=int, nargs=2, default=[512, 512],
                        metavar=('H', 'W'), help='input size (default 512)')
    parser.add_argument('--json', help='also write the numbers to this file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries')
    return parser.parse_args(argv)


def _count(params) -> int:
    return sum(p.numel() for p in params)


def _flops(fn):
    counter = FlopCounterMode(display=False)
    with counter:
        out = fn()
    return out, counter.get_total_flops()


def build_model(cfg: Config):
    import mtlbox
    from mtlbox.registry import MODELS
    mtlbox.register_all_modules(init_default_scope=True)
    if 'model' not in cfg:
        raise KeyError(f'{cfg.filename} has no `model` entry; pass a config '
                       'with model=dict(type=...)')
    return MODELS.build(cfg.model)


@torch.no_grad()
def analyse(model, shape):
    """``{'params': {...}, 'flops': {...}}`` for a MultiTaskModel."""
    model.eval()
    tasks = list(model.tasks)
    x = torch.randn(1, 3, *shape)
    arch = model.architecture
    params = {
        'backbone': _count(model.backbone.parameters()),
        'neck': _count(model.neck.parameters()) if model.neck else 0,
        'architecture': _count(arch.parameters()),
        'architecture.shared': _count(arch.shared_parameters()),
    }
    for t in tasks:
        params[f'architecture.{t}'] = _count(arch.task_parameters(t))
    for t in tasks:
        params[f'heads.{t}'] = _count(model.heads[t].parameters())
    params['total'] = _count(model.parameters())
    shared = _count(model.shared_parameters())
    params['shared'] = shared
    for t in tasks:
        params[f'task.{t}'] = _count(model.task_parameters(t))
    params['single_task_models'] = sum(shared + params[f'task.{t}']
                                       for t in tasks)

    flops = {}
    feats, flops['backbone'] = _flops(lambda: model.backbone(x))
    if model.neck is not None:
        feats, flops['neck'] = _flops(lambda: model.neck(feats))
    else:
        flops['neck'] = 0
    feats = list(feats)
    per_task, flops['architecture'] = _flops(lambda: arch(feats, tasks))
    for t in tasks:
        _, flops[f'architecture.{t}'] = _flops(lambda: arch(feats, [t]))
    for t in tasks:
        _, flops[f'heads.{t}'] = _flops(
            lambda: model.heads[t](per_task[t]))
    flops['total'] = sum(v for k, v in flops.items()
                         if k in ('backbone', 'neck', 'architecture')
                         or k.startswith('heads.'))
    return dict(params=params, flops=flops, shape=list(shape), tasks=tasks)


def format_report(result, name='') -> str:
    p, f = result['params'], result['flops']
    h, w = result['shape']
    lines = [f'{name} input 1x3x{h}x{w}, tasks {result["tasks"]}',
             f'{"component":<28}{"params (M)":>12}{"GFLOPs":>10}{"GMACs":>10}']

    def row(key, pkey=None, fkey=None):
        pv = p.get(pkey or key)
        fv = f.get(fkey or key)
        ps = f'{pv / 1e6:12.3f}' if pv is not None else f'{"":>12}'
        fs = (f'{fv / 1e9:10.3f}{fv / 2e9:10.3f}'
              if fv is not None else f'{"":>20}')
        lines.append(f'{key:<28}{ps}{fs}')

    for key in ('backbone', 'neck', 'architecture'):
        row(key)
    row('  architecture.shared', 'architecture.shared', '-')
    for t in result['tasks']:
        row(f'  architecture.{t}', f'architecture.{t}', f'architecture.{t}')
    for t in result['tasks']:
        row(f'heads.{t}')
    row('total')
    lines.append(f'shared parameters (trainable): {p["shared"] / 1e6:.3f} M')
    for t in result['tasks']:
        lines.append(f'  task-specific {t}: {p[f"task.{t}"] / 1e6:.3f} M')
    lines.append(f'{len(result["tasks"])} single-task models would need '
                 f'{p["single_task_models"] / 1e6:.3f} M parameters')
    lines.append('(architecture.<task>: FLOPs when only that task is '
                 'requested; FLOPs = 2 x MACs of conv/matmul ops)')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.config):
        sys.exit(f'config {args.config} not found')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model = build_model(cfg)
    result = analyse(model, args.shape)
    print(format_report(result, osp.basename(args.config)))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
