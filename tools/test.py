"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT``."""
import argparse
import json
import os
import os.path as osp

from mtlbox.utils.launch import (add_common_arguments, add_custom_hook,
                                 build_runner, load_cli_config, parse_args,
                                 shutdown_process_group)


def make_parser():
    parser = argparse.ArgumentParser(description='Test an mtlbox model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
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
    return add_common_arguments(parser)


def main():
    args = parse_args(make_parser())
    import mtlbox
    from mtlbox.evaluation import format_results
    from mtlbox.utils.config_check import (check_config_tasks,
                                           check_config_types)
    mtlbox.register_all_modules(init_default_scope=True)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} not found')
    cfg = load_cli_config(args)
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if not args.no_progress:
        add_custom_hook(cfg, dict(type='ProgressBarHook'))
    if args.show_dir:
        add_custom_hook(cfg, dict(type='MTLVisualizationHook',
                                  show_dir=osp.abspath(args.show_dir),
                                  score_thr=args.show_score_thr,
                                  max_images=args.show_max))
    check_config_types(cfg)
    check_config_tasks(cfg)
    runner = build_runner(cfg, args.verbose)
    metrics = runner.test()
    if runner.rank == 0:
        print(format_results(metrics, f'Test results of {args.checkpoint}'))
        if args.out:
            os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
            with open(args.out, 'w') as f:
                json.dump({k: float(v) for k, v in metrics.items()}, f,
                          indent=2)
    shutdown_process_group()


if __name__ == '__main__':
    main()
