"""The launcher shared by tools/train.py and tools/test.py: one command line,
and a terminal that keeps what a newcomer reads."""
import io
import logging
import os.path as osp
from types import SimpleNamespace

import mmengine

from mtlbox.utils.launch import TerminalFilter, add_common_arguments

MMENGINE = osp.join(osp.dirname(mmengine.__file__), 'runner', 'runner.py')


def _record(level, msg, path):
    return logging.LogRecord('x', level, path, 1, msg, None, None)


def test_terminal_filter_drops_mmengine_setup_keeps_the_rest():
    keep = TerminalFilter().filter
    assert not keep(_record(logging.INFO, '\n---\nSystem environment:',
                            MMENGINE))
    assert not keep(_record(logging.INFO, 'Config:\nmodel = dict(...)',
                            MMENGINE))
    assert not keep(_record(logging.INFO, 'Epoch(train) [1][20/40] lr: 1e-3',
                            MMENGINE))
    assert keep(_record(logging.INFO, 'resumed epoch: 2, iter: 80', MMENGINE))
    assert keep(_record(logging.INFO, 'The best checkpoint with 0.5 seg/mIoU'
                        ' at 3 epoch is saved to best.pth.', MMENGINE))
    assert keep(_record(logging.WARNING, 'warmup outlasts training',
                        MMENGINE))
    assert not keep(_record(logging.WARNING, '"FileClient" will be deprecated'
                            ' in future.', MMENGINE))
    assert keep(_record(logging.INFO, 'BalancerHook: replaying the '
                        'validation of epoch 2', '/x/mtlbox/engine/hooks/b.py'))


def test_print_log_of_mtlbox_passes_mmengine_print_log_does_not():
    """print_log records name mmengine's logger.py; the filter looks at the
    caller of print_log."""
    from mmengine.logging import MMLogger, print_log
    stream = io.StringIO()
    logger = MMLogger.get_instance('test_launch_filter', log_level='INFO')
    handler = logging.StreamHandler(stream)
    handler.addFilter(TerminalFilter())
    logger.addHandler(handler)
    try:
        print_log('from a test file', logger='test_launch_filter')
    finally:
        logger.removeHandler(handler)
    assert 'from a test file' in stream.getvalue()


def test_train_and_test_share_the_common_options():
    import argparse
    parser = add_common_arguments(argparse.ArgumentParser())
    args = parser.parse_args(['--work-dir', 'w', '--verbose', '--cfg-options',
                              'max_epochs=2', '--launcher', 'pytorch'])
    assert args.verbose and args.work_dir == 'w' and args.launcher == 'pytorch'
    assert args.cfg_options == {'max_epochs': 2}
    assert not parser.parse_args([]).verbose


def test_progress_line_and_headline_metrics():
    from mtlbox.engine.hooks.train_progress_hook import (TrainProgressHook,
                                                         headline)
    out = io.StringIO()
    hook = TrainProgressHook(width=10, stream=out)
    runner = SimpleNamespace(rank=0, epoch=2, train_loop=SimpleNamespace(
        dataloader=[0] * 4, max_epochs=8))
    hook.before_train_epoch(runner)
    for loss in (4.0, 2.0, 3.0, 1.0):
        hook.after_train_iter(runner, 0, outputs=dict(loss=loss))
    hook.after_train_epoch(runner)
    line = out.getvalue()
    assert line.startswith('epoch 3/8 [##########] 4/4  loss 2.5000')
    assert line.count('\n') == 1  # not a terminal: one line per epoch
    assert list(headline({'seg/mIoU': .5, 'seg/aAcc': .9, 'depth/abs_rel': .1,
                          'depth/rmse': .3, 'mtl/delta_m': 1.0})) == [
        'seg/mIoU', 'depth/abs_rel', 'mtl/delta_m']
