"""What ``tools/train.py`` and ``tools/test.py`` share: the common command
line, reading the config, the work dir, the launcher, and a terminal that
shows progress instead of mmengine's set-up dumps.

``--verbose`` restores mmengine's own terminal output (the environment and
config dumps, the hook table, a log line every ``LoggerHook.interval``
iterations). Without it the terminal keeps warnings, errors and the
messages that change what a run does (resumed, best checkpoint, balancer
notes), and progress bars replace the iteration lines; the work dir's
``<timestamp>/<timestamp>.log`` always has everything.
"""
import argparse
import logging
import os
import os.path as osp
import sys

from mmengine.config import DictAction
from mmengine.runner import Runner

#: mmengine INFO messages that stay on the terminal without ``--verbose``
#: (they say what the run did, not how it is set up)
_KEPT_MMENGINE_INFO = ('resumed epoch', 'best checkpoint', 'Auto resumed')
#: mmengine's own deprecation notes about its internals, not the user's
_DROPPED_MMENGINE_WARNINGS = ('"FileClient" will be deprecated',
                              '"HardDiskBackend" is the alias')


def add_common_arguments(parser: argparse.ArgumentParser):
    """``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local-rank``
    and ``--verbose``; returns ``parser``."""
    parser.add_argument('--work-dir', help='where logs and results go')
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
    parser.add_argument(
        '--verbose', action='store_true',
        help="print mmengine's environment and config dumps and its log "
        'lines on the terminal (they always go to the work dir log)')
    return parser


def parse_args(parser: argparse.ArgumentParser, argv=None):
    args = parser.parse_args(argv)
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


def load_cli_config(args):
    """The config of ``args.config`` with ``--cfg-options`` applied, the
    launcher set up and ``work_dir`` resolved (``--work-dir``, else the
    config's, else ``./work_dirs/<config name>``)."""
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
    return cfg


def add_custom_hook(cfg, hook: dict) -> None:
    cfg.custom_hooks = list(cfg.get('custom_hooks', None) or []) + [hook]


class TerminalFilter(logging.Filter):
    """Drops from the terminal what only the log file needs: mmengine's INFO
    records (set-up dumps, hook table, iteration lines) except those in
    :data:`_KEPT_MMENGINE_INFO`, and two deprecation notes of mmengine about
    itself. Other warnings, errors and mtlbox's own messages pass."""

    _MMENGINE = f'{os.sep}mmengine{os.sep}'

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.levelno >= logging.WARNING:
            return not any(k in message for k in _DROPPED_MMENGINE_WARNINGS)
        if self._MMENGINE not in self._origin(record):
            return True
        return any(k in message for k in _KEPT_MMENGINE_INFO)

    def _origin(self, record: logging.LogRecord) -> str:
        """The file that logged ``record``: for ``print_log(...,
        logger='current')`` the file that called ``print_log`` (the record
        itself names mmengine's ``logging/logger.py``)."""
        if not record.pathname.endswith(
                osp.join('mmengine', 'logging', 'logger.py')):
            return record.pathname
        frame = sys._getframe()
        while frame is not None:
            name = frame.f_code.co_filename
            if frame.f_code.co_name == 'print_log':
                caller = frame.f_back
                return caller.f_code.co_filename if caller else name
            frame = frame.f_back
        return record.pathname


class QuietRunner(Runner):
    """A Runner whose terminal log handler carries :class:`TerminalFilter`
    from its first record on (the environment dump is written while the
    Runner is built)."""

    def build_logger(self, *args, **kwargs):
        logger = super().build_logger(*args, **kwargs)
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler and not any(
                    isinstance(f, TerminalFilter) for f in handler.filters):
                handler.addFilter(TerminalFilter())
        return logger


def build_runner(cfg, verbose: bool = False) -> Runner:
    """``Runner.from_cfg(cfg)``; without ``verbose`` a :class:`QuietRunner`
    (the log file is the same either way)."""
    return (Runner if verbose else QuietRunner).from_cfg(cfg)
