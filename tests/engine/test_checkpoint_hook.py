"""After a SIGKILL at any moment of a save a loadable checkpoint remains.

A forked child saves checkpoints of a small state dict in a loop through the
hook that ``type='CheckpointHook'`` builds in mtlbox's scope and the same
``runner.save_checkpoint -> mmengine.runner.runner.save_checkpoint`` path
the Runner uses; the parent kills it at random moments and checks what a
resume would find. Each round resumes like ``--resume`` does
(``resume='auto'``: mmengine's ``find_latest_checkpoint`` reads
``last_checkpoint``).
"""
import os
import os.path as osp
import random
import signal
import stat
import time

import pytest
import torch
from mmengine.logging import MessageHub, MMLogger
from mmengine.runner import find_latest_checkpoint
from mmengine.runner import runner as mm_runner

from mtlbox.compat import IncompleteCheckpointError, safe_load
from mtlbox.registry import HOOKS


class _Runner:
    """What CheckpointHook reads of a Runner; ``save_checkpoint`` builds a
    checkpoint like ``Runner.save_checkpoint`` and saves it through the
    name the Runner calls."""

    def __init__(self, work_dir, name):
        self.work_dir = work_dir
        self.message_hub = MessageHub(name=name)
        self.logger = MMLogger.get_instance(name, log_level='WARNING')
        self.epoch, self.iter = 0, 0
        self.state = {'weight': torch.zeros(256, 1024)}  # 1 MiB

    def save_checkpoint(self, out_dir, filename, file_client_args=None,
                        save_optimizer=True, save_param_scheduler=True,
                        meta=None, by_epoch=True, backend_args=None):
        checkpoint = dict(meta=meta, state_dict=self.state,
                          message_hub=self.message_hub.state_dict())
        mm_runner.save_checkpoint(checkpoint, osp.join(out_dir, filename))


def _train(work_dir, max_keep, saves=None, resume=True):
    """Resume from ``work_dir`` (if it has a checkpoint) and save one
    checkpoint per epoch: ``saves`` times, or until killed."""
    runner = _Runner(work_dir, f'ckpt-{os.getpid()}-{time.time_ns()}')
    last = find_latest_checkpoint(work_dir) if resume else None
    if last is not None:
        ckpt = safe_load(last)
        runner.message_hub.load_state_dict(ckpt['message_hub'])
        runner.epoch = ckpt['meta']['epoch']
        runner.state['weight'].fill_(runner.epoch)
    hook = HOOKS.build(dict(type='CheckpointHook', interval=1,
                            max_keep_ckpts=max_keep))
    hook.before_train(runner)
    done = 0
    while saves is None or done < saves:
        hook._save_checkpoint(runner)  # what after_train_epoch calls
        runner.epoch += 1
        runner.state['weight'].fill_(runner.epoch)
        done += 1
    return hook


def _epochs(work_dir):
    return sorted(int(f[len('epoch_'):-len('.pth')]) for f in
                  os.listdir(work_dir)
                  if f.startswith('epoch_') and f.endswith('.pth'))


def _killed_once(work_dir, max_keep, delay):
    pid = os.fork()
    if pid == 0:  # child: save until killed, never return into pytest
        try:
            torch.set_num_threads(1)
            _train(work_dir, max_keep)
        finally:
            os._exit(1)
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def _survived(work_dir):
    """Whether a resume finds a loadable file and the newest complete
    checkpoint loads."""
    last = find_latest_checkpoint(work_dir)
    epochs = _epochs(work_dir)
    if last is None or not osp.isfile(last) or not epochs:
        return False
    try:
        resumed = safe_load(last)
        newest = safe_load(osp.join(work_dir, f'epoch_{epochs[-1]}.pth'))
    except Exception:  # noqa: BLE001 - any failure is a lost checkpoint
        return False
    # a resume loses at most the checkpoint being announced at the kill
    return (newest['meta']['epoch'] == epochs[-1]
            and resumed['meta']['epoch'] >= epochs[-1] - 1)


@pytest.mark.parametrize('max_keep', [1, 2])
def test_sigkill_during_save_leaves_a_loadable_checkpoint(tmp_path, max_keep):
    work_dir = str(tmp_path)
    _train(work_dir, max_keep, saves=1)
    rng = random.Random(max_keep)
    kills = 10
    survived = 0
    for _ in range(kills):
        _killed_once(work_dir, max_keep, rng.uniform(0.02, 0.25))
        survived += _survived(work_dir)
    assert survived == kills, f'{survived} of {kills} kills left a ' \
        'loadable checkpoint'
    # a clean resume removes what the kills left behind
    before = _epochs(work_dir)[-1]
    _train(work_dir, max_keep, saves=1)
    assert not [f for f in os.listdir(work_dir) if f.startswith('.tmp-')]
    epochs = _epochs(work_dir)
    assert len(epochs) == max_keep and epochs[-1] >= before
    assert find_latest_checkpoint(work_dir) == osp.join(
        work_dir, f'epoch_{epochs[-1]}.pth')
    assert epochs[-1] > 3  # the killed runs made progress


def test_checkpoints_get_the_users_umask(tmp_path):
    old = os.umask(0o027)
    try:
        _train(str(tmp_path), 2, saves=1)
    finally:
        os.umask(old)
    for name in ('epoch_1.pth', 'last_checkpoint'):
        mode = stat.S_IMODE(os.stat(tmp_path / name).st_mode)
        assert mode == 0o640, (name, oct(mode))


def test_hook_names_resolve_to_the_safe_hook():
    from mmengine.hooks import CheckpointHook

    from mtlbox.engine import MTLCheckpointHook
    assert type(HOOKS.build(dict(type='CheckpointHook'))) is MTLCheckpointHook
    assert type(HOOKS.build(
        dict(type='MTLCheckpointHook'))) is MTLCheckpointHook
    assert type(HOOKS.build(
        dict(type='mmengine.CheckpointHook'))) is CheckpointHook


def test_start_removes_stray_temporaries_and_repairs_last_checkpoint(
        tmp_path):
    _train(str(tmp_path), 1, saves=2)
    stray = tmp_path / '.tmp-epoch_3.pth-0badc0de.pth'
    stray.write_bytes(b'PK\x03\x04 half a checkpoint')
    # as an older run may leave it (a resume now fails naming epoch_2.pth)
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_9.pth'))
    _train(str(tmp_path), 1, saves=0, resume=False)
    assert not stray.exists()
    assert find_latest_checkpoint(str(tmp_path)) == str(
        tmp_path / 'epoch_2.pth')


@pytest.mark.parametrize('size', [0, 1000], ids=['empty', 'truncated'])
def test_incomplete_checkpoint_names_a_loadable_one(tmp_path, size):
    torch.save({'state_dict': {'w': torch.ones(3)}}, tmp_path / 'epoch_1.pth')
    torch.save({'state_dict': {'w': torch.ones(4000)}},
               tmp_path / 'epoch_2.pth')
    data = (tmp_path / 'epoch_2.pth').read_bytes()
    (tmp_path / 'epoch_2.pth').write_bytes(data[:size])
    bad = str(tmp_path / 'epoch_2.pth')
    with pytest.raises(IncompleteCheckpointError) as err:
        safe_load(bad)
    message = str(err.value)
    assert bad in message and 'incomplete' in message
    assert ('empty' if size == 0 else 'truncated') in message
    assert str(tmp_path / 'epoch_1.pth') in message


def test_missing_checkpoint_names_a_loadable_one(tmp_path):
    torch.save({'w': torch.ones(3)}, tmp_path / 'epoch_1.pth')
    with pytest.raises(FileNotFoundError,
                       match='epoch_2.pth not found.*epoch_1.pth'):
        safe_load(str(tmp_path / 'epoch_2.pth'))


def test_previous_best_is_removed_only_after_the_new_one_is_saved(tmp_path):
    runner = _Runner(str(tmp_path), f'best-{time.time_ns()}')
    hook = HOOKS.build(dict(type='CheckpointHook', interval=1,
                            save_best='acc', rule='greater'))
    hook.before_train(runner)
    seen = []
    save = runner.save_checkpoint

    def save_and_look(out_dir, filename, *args, **kwargs):
        seen.append(sorted(f for f in os.listdir(out_dir)
                           if f.startswith('best_')))
        save(out_dir, filename, *args, **kwargs)

    runner.save_checkpoint = save_and_look
    hook._save_best_checkpoint(runner, {'acc': 0.5})
    runner.epoch = 1
    hook._save_best_checkpoint(runner, {'acc': 0.7})
    assert seen == [[], ['best_acc_epoch_0.pth']]
    assert sorted(f for f in os.listdir(tmp_path)
                  if f.startswith('best_')) == ['best_acc_epoch_1.pth']
