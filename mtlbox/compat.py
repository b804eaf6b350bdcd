"""Fixes that let mmengine 0.10.7 run on torch 2.14.

torch >= 2.6 unpickles checkpoints with ``weights_only=True``. mmengine's
checkpoints hold ``HistoryBuffer`` objects and numpy arrays/scalars in the
message hub and meta data, which that unpickler rejects, so ``--resume`` and
``load_from`` fail. :func:`apply` replaces mmengine's local-file loader with
:func:`safe_load`: still ``weights_only=True``, with exactly the globals of
:func:`checkpoint_safe_globals` allowed. A checkpoint that needs anything else
(e.g. one whose pickle would call ``os.system``) is refused with
:class:`UnsafeCheckpointError`; nothing in it runs and there is no silent
fallback to unrestricted unpickling.

It also makes the Runner write checkpoints atomically
(:func:`atomic_save_checkpoint`).
"""
import os.path as osp
import pickle
import re

import numpy as np
import torch

_applied = False


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs globals outside mtlbox's allow-list."""


def _history_buffer_getattr(obj, name):
    """Stands in for ``builtins.getattr`` while unpickling.

    ``HistoryBuffer`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``. A general ``getattr`` would let a
    pickle reach any attribute of an allowed class (e.g. a method that
    writes files), so only those lookups are allowed.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    allowed = {'min', 'max', 'current', 'mean'}
    allowed |= set(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'getattr({getattr(obj, "__name__", obj)!r}, {name!r}) is not allowed')


def checkpoint_safe_globals():
    """The classes/functions mmengine checkpoints legitimately contain."""
    from mmengine.logging.history_buffer import HistoryBuffer
    multiarray = getattr(np, '_core', None) or np.core
    allowed = [
        HistoryBuffer,
        multiarray.multiarray._reconstruct,
        multiarray.multiarray.scalar,
        np.ndarray,
        np.dtype,
        (_history_buffer_getattr, 'builtins.getattr'),
        (_history_buffer_getattr, '__builtin__.getattr'),
    ]
    # numpy >= 1.25 pickles dtypes as instances of numpy.dtypes.*DType
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        allowed += [
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType') and isinstance(getattr(dtypes, name),
                                                     type)
        ]
    return allowed


def safe_load(filename, map_location=None):
    """``torch.load(weights_only=True)`` with the mmengine allow-list.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        UnsafeCheckpointError: the pickle references a global outside the
            allow-list (the message names it).
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} not found')
    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        text = str(err)
        found = re.search(r'GLOBAL (\S+)', text)
        if found:
            first = f'global {found.group(1)}'
        else:
            lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
            first = lines[-2] if len(lines) > 1 else text
        raise UnsafeCheckpointError(
            f'refusing to load checkpoint {filename}: it needs a Python '
            f'object outside the allow-list of mtlbox.compat ({first}). '
            'mtlbox never unpickles arbitrary objects because that can run '
            'code. If you trust the file and the object is harmless, convert'
            ' it once to a plain state dict.') from None


def atomic_save_checkpoint(checkpoint, filename, *args, **kwargs):
    """Save a checkpoint so that a crash never leaves a truncated file.

    Local paths are written to a temporary file in the same directory,
    flushed to disk and renamed over ``filename`` (``os.replace`` is atomic
    on POSIX): a kill during saving leaves the previous file intact. Remote
    URIs go through mmengine's own saver.
    """
    import os
    import tempfile

    from mmengine.runner import checkpoint as mm_checkpoint
    if '://' in str(filename):
        return mm_checkpoint.save_checkpoint(checkpoint, filename, *args,
                                             **kwargs)
    filename = osp.abspath(osp.expanduser(str(filename)))
    directory = osp.dirname(filename)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp-', suffix='.pth', dir=directory)
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(checkpoint, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filename)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def apply():
    """Install the fixes (idempotent). Called on ``import mtlbox``."""
    global _applied
    if _applied:
        return
    from mmengine.runner import runner as mm_runner
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', force=True)(safe_load)
    # Runner.save_checkpoint calls the name imported into its module
    mm_runner.save_checkpoint = atomic_save_checkpoint
    _applied = True
