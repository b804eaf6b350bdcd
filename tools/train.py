"""Train a multi-task model: ``python tools/train.py CONFIG [options]``."""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner


def parse_args():
    parser = argparse.ArgumentParser(description='Train an mtlbox model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or (no value) from the '
        'latest checkpoint in the work dir')
    parser.add_argument(
        '--amp', action='store_true', help='mixed-precision training')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. train_cfg.max_epochs=2; a '
        'top-level variable (img_scale=(320,320), voc_root=/data/VOC2012/) '
        'changes every entry built from it. A key that is neither in the '
        'config nor an argument of the class it configures is refused')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher (tools/dist_train.sh uses pytorch)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def init_cpu_process_group():
    """Without GPUs, join the torchrun group with gloo ourselves: mmengine's
    ``init_dist`` always calls ``torch.cuda.set_device``."""
    import torch
    import torch.distributed as dist
    if torch.cuda.is_available() or dist.is_initialized():
        return
    dist.init_process_group(backend='gloo')


def shutdown_process_group():
    """Leave the process group before exiting: gloo's threads abort the
    process ('terminate called without an active exception') when the
    interpreter exits with the group still alive."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def build_config(args) -> Config:
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config {args.config} not found')
    from mtlbox.utils.config_check import load_config
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.launcher == 'pytorch':
        init_cpu_process_group()
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
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
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(f'--resume {args.resume}: no such file')
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def main():
    args = parse_args()
    import mtlbox
    from mtlbox.utils.config_check import (check_config,
                                           check_dataset_labels,
                                           warmup_outlasts_training)
    mtlbox.register_all_modules(init_default_scope=True)
    cfg = build_config(args)
    check_config(cfg)
    runner = Runner.from_cfg(cfg)
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
