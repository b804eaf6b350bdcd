"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT``."""
import argparse
import json
import os
import os.path as osp

from mmengine.config import DictAction
from mmengine.runner import Runner


def parse_args():
    parser = argparse.ArgumentParser(description='Test an mtlbox model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where logs and results go')
    parser.add_argument(
        '--out', help='write the metrics as JSON to this file')
    parser.add_argument(
        '--show-dir',
        help='save a panel per test image (predictions over ground truth: '
        'input, boxes, segmentation, depth, normals, enhancement) here')
    parser.add_argument(
        '--show-score-thr', type=float, default=0.3,
        help='smallest detection score drawn in the panels')
    parser.add_argument(
        '--show-max', type=int, default=None,
        help='save at most this many panels')
    parser.add_argument(
        '--no-progress', action='store_true',
        help='do not show the progress bar')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, as for tools/train.py')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main():
    args = parse_args()
    import mtlbox
    from mtlbox.evaluation import format_results
    from mtlbox.utils.config_check import (check_config_tasks,
                                           check_config_types, load_config)
    mtlbox.register_all_modules(init_default_scope=True)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config {args.config} not found')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} not found')
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if not args.no_progress:
        cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
            dict(type='ProgressBarHook')
        ]
    cfg.resume = False
    if args.show_dir:
        hooks = list(cfg.get('custom_hooks', None) or [])
        hooks.append(dict(type='MTLVisualizationHook',
                          show_dir=osp.abspath(args.show_dir),
                          score_thr=args.show_score_thr,
                          max_images=args.show_max))
        cfg.custom_hooks = hooks
    check_config_types(cfg)
    check_config_tasks(cfg)
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    if runner.rank == 0:
        print(format_results(metrics, f'Test results of {args.checkpoint}'))
        if args.out:
            os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
            with open(args.out, 'w') as f:
                json.dump({k: float(v) for k, v in metrics.items()}, f,
                          indent=2)
    from train import shutdown_process_group
    shutdown_process_group()


if __name__ == '__main__':
    main()
