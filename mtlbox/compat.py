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
(:func:`atomic_save_checkpoint`), and :func:`safe_load` reports an empty or
truncated checkpoint as :class:`IncompleteCheckpointError`, naming the
newest loadable checkpoint next to it.
"""
import glob
import os
import os.path as osp
import pickle
import re
import secrets
import zipfile

import numpy as np
import torch

_applied = False


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs globals outside mtlbox's allow-list."""


class IncompleteCheckpointError(RuntimeError):
    """A checkpoint file is empty or truncated (a crash while writing it, a
    full disk, an interrupted copy)."""


#: name prefix of the temporary files of the atomic writers below
TMP_PREFIX = '.tmp-'


def _is_complete_zip(filename) -> bool:
    """Whether ``filename`` is a whole torch zip checkpoint: its central
    directory (written last) is there and lists the pickle."""
    try:
        with zipfile.ZipFile(filename) as zf:
            return any(n.endswith('data.pkl') for n in zf.namelist())
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def _incomplete(filename, err) -> str:
    """Why ``filename``, which failed to load with ``err``, is incomplete
    ('' when it is not: it failed for another reason)."""
    size = osp.getsize(filename)
    if size == 0:
        return 'empty (0 bytes)'
    with open(filename, 'rb') as f:
        magic = f.read(4)
    if magic == b'PK\x03\x04' and not _is_complete_zip(filename):
        return f'truncated ({size} bytes, its zip index is missing)'
    if isinstance(err, EOFError):
        return f'truncated ({size} bytes, the pickle ends early)'
    return ''


def _loads(filename) -> bool:
    """Whether ``filename`` loads with the allow-list (memory-mapped, so
    checking a large checkpoint reads little of it)."""
    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            torch.load(filename, map_location='cpu', weights_only=True,
                       mmap=True)
        return True
    except Exception:  # noqa: BLE001 - any failure means "not loadable"
        return False


def loadable_checkpoints(directory, exclude=(), limit=5):
    """Up to ``limit`` checkpoints of ``directory`` (``*.pth``, newest
    first by modification time, temporary files skipped) that load."""
    exclude = {osp.abspath(e) for e in exclude}
    names = [f for f in glob.glob(osp.join(directory, '*.pth'))
             if not osp.basename(f).startswith(TMP_PREFIX)
             and osp.abspath(f) not in exclude and osp.isfile(f)]
    names.sort(key=lambda f: (osp.getmtime(f), f), reverse=True)
    found = []
    for name in names:
        if len(found) >= limit:
            break
        if _loads(name):
            found.append(name)
    return found


def _alternative(filename) -> str:
    """'; the newest loadable checkpoint in DIR is X (...)' or why none."""
    directory = osp.dirname(osp.abspath(filename))
    found = loadable_checkpoints(directory, exclude=[filename], limit=1)
    if not found:
        return f'; no other loadable checkpoint is in {directory}'
    return (f'; the newest loadable checkpoint in {directory} is {found[0]} '
            f'(resume from it with --resume {found[0]}, or set load_from)')


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
        FileNotFoundError: ``filename`` does not exist (the message names
            the newest loadable checkpoint in its directory, if any).
        IncompleteCheckpointError: the file is empty or truncated (the
            message says which and names the newest loadable checkpoint in
            the same directory).
        UnsafeCheckpointError: the pickle references a global outside the
            allow-list (the message names it).
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} not found' +
                                _alternative(filename))
    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except Exception as err:
        state = _incomplete(filename, err)
        if state:
            first = (str(err).strip().splitlines() or ['no message'])[0]
            raise IncompleteCheckpointError(
                f'checkpoint {filename} is incomplete: the file is {state}, '
                'as after a crash while it was written or an interrupted '
                f'copy ({type(err).__name__}: {first[:80]})' +
                _alternative(filename)) from None
        if not isinstance(err, pickle.UnpicklingError):
            raise
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


def _fsync_directory(directory) -> None:
    """Make a rename in ``directory`` durable (POSIX; a no-op elsewhere)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_write(filename, write, suffix):
    """Write ``filename`` through a temporary file in its directory.

    The temporary file is created with mode 0o666 minus the umask (as
    ``open()`` would create ``filename``), filled by ``write(f)``, flushed
    and fsynced, renamed over ``filename`` (``os.replace`` is atomic on
    POSIX) and the directory is fsynced, so after a crash ``filename`` is
    either the old or the new complete file.
    """
    filename = osp.abspath(osp.expanduser(str(filename)))
    directory = osp.dirname(filename)
    os.makedirs(directory, exist_ok=True)
    base = osp.basename(filename)
    while True:
        tmp = osp.join(directory, f'{TMP_PREFIX}{base}-'
                       f'{secrets.token_hex(4)}{suffix}')
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filename)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_directory(directory)


def atomic_save_checkpoint(checkpoint, filename, *args, **kwargs):
    """Save a checkpoint so that a crash never leaves a truncated file.

    Local paths are written to a temporary ``.tmp-*.pth`` file in the same
    directory, flushed to disk and renamed over ``filename`` (see
    :func:`_atomic_write`): a kill during saving leaves the previous file
    intact and at most a stray temporary file, which
    ``MTLCheckpointHook`` removes when training starts. The file gets the
    user's umask like any other. Remote URIs go through mmengine's own
    saver.
    """
    from mmengine.runner import checkpoint as mm_checkpoint
    if '://' in str(filename):
        return mm_checkpoint.save_checkpoint(checkpoint, filename, *args,
                                             **kwargs)
    _atomic_write(filename, lambda f: torch.save(checkpoint, f), '.pth')


def atomic_write_text(filename, text: str) -> None:
    """Replace the text file ``filename`` atomically (``last_checkpoint``)."""
    _atomic_write(filename, lambda f: f.write(text.encode()), '.txt')


def remove_stray_temporaries(directory) -> list:
    """Delete the temporary files an interrupted atomic save left in
    ``directory``; returns their paths."""
    found = glob.glob(osp.join(directory, f'{TMP_PREFIX}*.pth')) + glob.glob(
        osp.join(directory, f'{TMP_PREFIX}*.txt'))
    removed = []
    for path in found:
        try:
            os.remove(path)
            removed.append(path)
        except FileNotFoundError:
            pass
    return removed


def apply():
    """Install the fixes (idempotent). An explicit step, not an import side
    effect: ``mtlbox.register_all_modules()`` (which the tools call) and
    building ``MTLCheckpointHook`` (named by every config) call it."""
    global _applied
    if _applied:
        return
    from mmengine.runner import runner as mm_runner
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', force=True)(safe_load)
    # Runner.save_checkpoint calls the name imported into its module
    mm_runner.save_checkpoint = atomic_save_checkpoint
    _applied = True
