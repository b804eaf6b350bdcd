"""Train a multi-task model: ``python tools/train.py CONFIG [options]``."""
import argparse
import glob
import os.path as osp

from mtlbox.utils.launch import (add_common_arguments, add_custom_hook,
                                 build_runner, load_cli_config, parse_args,
                                 shutdown_process_group)


def make_parser():
    parser = argparse.ArgumentParser(description='Train an mtlbox model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or (no value) from the '
        'latest checkpoint in the work dir')
    parser.add_argument(
        '--amp', action='store_true', help='mixed-precision training')
    return add_common_arguments(parser)


def check_auto_resume(work_dir: str) -> None:
    """``--resume`` without a path resumes from the checkpoint that
    ``<work_dir>/last_checkpoint`` names; one that no longer exists is an
    error naming both and the checkpoints that are left (mmengine would
    stop deep in its loader)."""
    marker = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(marker):
        return
    with open(marker) as f:
        path = f.read().strip()
    if not path or osp.isfile(path):
        return
    left = sorted(glob.glob(osp.join(work_dir, '*.pth')), key=osp.getmtime)
    raise FileNotFoundError(
        f'--resume: {marker} names {path}, which does not exist; '
        + (f'checkpoints left in the work dir (oldest first): '
           f'{[osp.basename(p) for p in left]}: resume from one with '
           '--resume PATH' if left else
           'no checkpoint is left in the work dir: train without --resume')
        + f', or correct {marker}')


def build_config(args):
    cfg = load_cli_config(args)
    if args.amp:
        import torch
        wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper in ('AmpOptimWrapper', 'CPUAmpOptimWrapper'):
            print('AMP is already enabled in the config')
        elif torch.cuda.is_available():  # fp16 with a dynamic loss scaler
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        else:  # bfloat16 autocast, no scaler needed
            cfg.optim_wrapper.type = 'CPUAmpOptimWrapper'
    if args.resume == 'auto':
        check_auto_resume(cfg.work_dir)
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(f'--resume {args.resume}: no such file')
        cfg.resume = True
        cfg.load_from = args.resume
    if not args.verbose:
        add_custom_hook(cfg, dict(type='TrainProgressHook'))
    return cfg


def main():
    args = parse_args(make_parser())
    import mtlbox
    from mtlbox.utils.config_check import (check_config,
                                           check_dataset_labels,
                                           warmup_outlasts_training)
    mtlbox.register_all_modules(init_default_scope=True)
    cfg = build_config(args)
    check_config(cfg)
    runner = build_runner(cfg, args.verbose)
    # the train loop is the first thing runner.train() builds (and reuses
    # when built): build it here to see which tasks the data labels
    loader = runner.train_loop.dataloader
    check_dataset_labels(cfg, loader.dataset)
    warning = warmup_outlasts_training(cfg, len(loader))
    if warning:
        runner.logger.warning(warning)
    runner.train()
    shutdown_process_group()


if __name__ == '__main__':
    main()
