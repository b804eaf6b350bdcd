"""A CheckpointHook after which a crash always leaves a loadable checkpoint."""
import os.path as osp
from collections import deque
from contextlib import contextmanager

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from mtlbox.compat import (atomic_write_text, loadable_checkpoints,
                           remove_stray_temporaries)
from mtlbox.registry import HOOKS


@HOOKS.register_module(name=['MTLCheckpointHook', 'CheckpointHook'])
class MTLCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` with crash-safe ordering.

    mmengine removes the oldest checkpoint *before* writing the new one and
    rewrites ``last_checkpoint`` in place, so with ``max_keep_ckpts=1`` a
    kill during the save leaves no checkpoint and a ``last_checkpoint``
    naming a deleted file. Here every save is

    1. the new checkpoint, written to a temporary file, fsynced and renamed
       (``mtlbox.compat.atomic_save_checkpoint``);
    2. ``last_checkpoint``, replaced the same way, so it names a complete
       file at every moment;
    3. only then the checkpoints beyond ``max_keep_ckpts`` (and a replaced
       best checkpoint) are removed.

    The checkpoint records the not yet removed ones in ``keep_ckpt_ids``, so
    a run killed between 2 and 3 removes them when resumed (mmengine's
    ``before_train`` trims that list to ``max_keep_ckpts``). At the start of
    training temporary files an interrupted save left (``.tmp-*.pth``) are
    deleted, and a ``last_checkpoint`` that names a missing file (written
    by an older run) is pointed at the newest loadable checkpoint.

    Registered as ``MTLCheckpointHook`` and, in mtlbox's scope, as
    ``CheckpointHook``, so configs written for mmengine
    (``dict(type='CheckpointHook', ...)``) get the safe ordering without a
    change; ``type='mmengine.CheckpointHook'`` still selects the original.
    Arguments are those of mmengine's ``CheckpointHook``.

    Building it installs :func:`mtlbox.compat.apply` (checkpoints loaded
    with ``weights_only=True`` and an allow-list, saved atomically): hooks
    are built in the Runner's ``__init__``, before anything is loaded or
    saved, so a config naming this hook (every mtlbox config does, through
    ``default_runtime.py``) gets the fixes with ``Runner.from_cfg`` too.
    """

    def __init__(self, *args, **kwargs):
        from mtlbox import compat
        compat.apply()
        super().__init__(*args, **kwargs)

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if not is_main_process():
            return
        for directory in {self.out_dir, runner.work_dir}:
            if '://' in str(directory) or not osp.isdir(directory):
                continue
            for path in remove_stray_temporaries(directory):
                runner.logger.info(
                    f'removed {path}, left by a save that was interrupted')
        self._repair_last_checkpoint(runner)

    def _repair_last_checkpoint(self, runner) -> None:
        save_file = osp.join(runner.work_dir, 'last_checkpoint')
        if not osp.isfile(save_file):
            return
        with open(save_file) as f:
            named = f.read().strip()
        if '://' in named or osp.isfile(named):
            return
        found = loadable_checkpoints(self.out_dir, limit=1) if osp.isdir(
            str(self.out_dir)) else []
        if found:
            atomic_write_text(save_file, found[0])
        runner.logger.warning(
            f'{save_file} named {named!r}, which does not exist; ' +
            (f'it now names {found[0]}, the newest loadable checkpoint'
             if found else 'no loadable checkpoint was found'))

    def _save_checkpoint_with_step(self, runner, step, meta):
        stale = []
        if self.max_keep_ckpts > 0 and not (
                self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            # _save_checkpoint and _save_best_checkpoint may both save at
            # one step: only the first one counts
            ids = list(self.keep_ckpt_ids) + [step]
            stale = ids[:-self.max_keep_ckpts]
            kept = ids[-self.max_keep_ckpts:]
            # the checkpoint lists the stale ones until they are removed
            runner.message_hub.update_info('keep_ckpt_ids', ids)
        else:
            kept = list(getattr(self, 'keep_ckpt_ids', []))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if self.max_keep_ckpts > 0:
            self.keep_ckpt_ids = deque(kept, self.max_keep_ckpts)
            runner.message_hub.update_info('keep_ckpt_ids', kept)
        if not is_main_process():
            return
        atomic_write_text(osp.join(runner.work_dir, 'last_checkpoint'),
                          str(self.last_ckpt))
        for old in stale:
            self._remove(
                self.file_backend.join_path(self.out_dir,
                                            self.filename_tmpl.format(old)))

    def _remove(self, path) -> None:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):
            # checkpoints saved by deepspeed are directories
            self.file_backend.rmtree(path)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        # mmengine removes the previous best checkpoint before saving the
        # new one: hold the removals back until the save has returned
        with self._removals_deferred() as deferred:
            super()._save_best_checkpoint(runner, metrics)
        for path in deferred:
            self._remove(path)

    @contextmanager
    def _removals_deferred(self):
        deferred = []
        backend = self.file_backend
        backend.remove = deferred.append
        backend.rmtree = deferred.append
        try:
            yield deferred
        finally:
            del backend.remove, backend.rmtree
