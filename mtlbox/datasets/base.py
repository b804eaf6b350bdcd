"""Shared pieces of mtlbox's file-based datasets.

- :class:`DatasetLayoutError`: a folder or file of the official layout is
  missing; the message names the path, the section of ``docs/datasets.md``
  describing the layout and the ``tools/data/make_fixture.py`` command that
  writes a tiny valid copy of it.
- :class:`CorruptSampleError`: one sample cannot be read (bad image, malformed
  XML/JSON entry, label of the wrong size); the message names the file.
- :class:`MTLBaseDataset`: an mmengine ``BaseDataset`` whose samples carry
  ``labeled_tasks`` and ``source``, and which either raises on a corrupt
  sample (default: no silent data loss) or, with ``skip_invalid=True``, skips
  it, counts it and logs a warning.
"""
import os
import os.path as osp
from typing import Callable, Dict, Iterable, List, Optional

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

DOCS = 'docs/datasets.md'


class DatasetLayoutError(FileNotFoundError):
    """A path of a dataset's official on-disk layout does not exist."""

    def __str__(self):
        return str(self.args[0]) if self.args else ''


class CorruptSampleError(RuntimeError):
    """One sample's image or annotation cannot be read."""


def layout_message(path: str, anchor: str, fixture: Optional[str] = None,
                   what: str = 'not found') -> str:
    fixture = fixture or anchor
    return (f'{path} {what}; expected the layout in {DOCS}#{anchor} (make a '
            f'sample layout with tools/data/make_fixture.py {fixture} DIR)')


def require_path(path: str, anchor: str, fixture: Optional[str] = None,
                 kind: str = 'any') -> str:
    """Return ``path`` or raise :class:`DatasetLayoutError` naming it."""
    ok = {'dir': osp.isdir, 'file': osp.isfile}.get(kind, osp.exists)(path)
    if not ok:
        raise DatasetLayoutError(layout_message(path, anchor, fixture))
    return path


def read_list(path: str, anchor: str, fixture: Optional[str] = None
              ) -> List[str]:
    """Non-empty, stripped lines of a split/list file (must exist)."""
    require_path(path, anchor, fixture, 'file')
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def find_with_ext(folder: str, stem: str, exts: Iterable[str]
                  ) -> Optional[str]:
    """``folder/stem.ext`` for the first ``ext`` that exists, else None."""
    for ext in exts:
        path = osp.join(folder, stem + ext)
        if osp.isfile(path):
            return path
    return None


class MTLBaseDataset(BaseDataset):
    """Base of mtlbox's datasets read from an official on-disk layout.

    Subclasses implement :meth:`load_samples` returning data infos; each info
    gets ``source`` (default: the class's ``SOURCE`` or class name) and must
    name its ``labeled_tasks``. File paths in infos are read by the pipeline's
    ``LoadMTLImageFromFile`` and ``LoadMTLAnnotations``.

    Args:
        data_root: root folder of the official layout.
        source: name stored in each sample's ``source`` meta (defaults to the
            dataset name); :class:`~mtlbox.datasets.PartialMTLDataset` and
            :class:`~mtlbox.datasets.SourceRatioSampler` group by it.
        skip_invalid: skip (and count, with a logged warning) samples whose
            annotation cannot be parsed or whose files cannot be decoded,
            instead of raising. ``num_skipped`` holds the count.
        **kwargs: the rest of ``mmengine.dataset.BaseDataset``.
    """

    #: anchor of the layout section in docs/datasets.md and fixture name
    LAYOUT = ''
    FIXTURE = None
    SOURCE = None

    def __init__(self, data_root: str = '', source: Optional[str] = None,
                 skip_invalid: bool = False, **kwargs):
        self.source = source or self.SOURCE or type(self).__name__
        self.skip_invalid = skip_invalid
        self.num_skipped = 0
        self._skip_examples: List[str] = []
        super().__init__(data_root=data_root, **kwargs)

    # --------------------------------------------------------------- layout
    def path(self, *parts: str) -> str:
        return osp.join(self.data_root, *parts)

    def require(self, path: str, kind: str = 'any') -> str:
        return require_path(path, self.LAYOUT, self.FIXTURE, kind)

    def read_list(self, path: str) -> List[str]:
        return read_list(path, self.LAYOUT, self.FIXTURE)

    # ------------------------------------------------------------- loading
    def load_samples(self) -> List[dict]:
        raise NotImplementedError

    def load_data_list(self) -> List[dict]:
        if self.data_root and not osp.isdir(self.data_root):
            raise DatasetLayoutError(
                layout_message(self.data_root, self.LAYOUT, self.FIXTURE))
        infos = self.load_samples()
        for info in infos:
            info.setdefault('source', self.source)
            info.setdefault('labeled_tasks', [])
        if self.num_skipped:
            print_log(
                f'{type(self).__name__} ({self.data_root}): skipped '
                f'{self.num_skipped} invalid samples (skip_invalid=True), '
                f'e.g. {self._skip_examples[:3]}', logger='current',
                level=30)
        return infos

    def invalid(self, message: str, error: Optional[Exception] = None):
        """Record an unreadable sample: raise, or count it when skipping."""
        if not self.skip_invalid:
            raise CorruptSampleError(
                message + ' (pass skip_invalid=True to skip such samples)'
            ) from error
        self.num_skipped += 1
        if len(self._skip_examples) < 10:
            self._skip_examples.append(message)

    def guarded(self, fn: Callable, *args, what: str = ''):
        """``fn(*args)``; any exception becomes :meth:`invalid` (None)."""
        try:
            return fn(*args)
        except (CorruptSampleError, DatasetLayoutError) as err:
            if isinstance(err, DatasetLayoutError):
                raise
            self.invalid(str(err), err)
        except Exception as err:  # noqa: BLE001 - reported with the file
            self.invalid(f'{what}: {type(err).__name__}: {err}', err)
        return None

    # ------------------------------------------------------------ fetching
    #: ``{task name: task kind}`` for task names that are not kinds (Office
    #: domains, CelebA attributes: ``'cls'``), handed to
    #: :class:`~mtlbox.datasets.transforms.PackMTLInputs` with every sample
    #: (``results['task_map']``) instead of being stored in each data info
    task_map: Dict[str, str] = {}

    def get_data_info(self, idx: int) -> dict:
        """The data info with ``test_mode`` (in test mode
        :class:`~mtlbox.datasets.transforms.PackMTLInputs` packs ground
        truth in the original image frame for the metrics) and the
        dataset's :attr:`task_map`, if any."""
        info = with_test_mode(super().get_data_info(idx), self.test_mode)
        if self.task_map:
            info['task_map'] = self.task_map
        return info

    def __getitem__(self, idx: int) -> dict:
        """Like ``BaseDataset`` but a :class:`CorruptSampleError` raised by
        the pipeline skips to the next sample when ``skip_invalid``."""
        if not self._fully_initialized:
            self.full_init()
        for _ in range(max(1, len(self))):
            try:
                return super().__getitem__(idx)
            except CorruptSampleError as err:
                if not self.skip_invalid:
                    raise
                self.num_skipped += 1
                print_log(f'{type(self).__name__}: skipping invalid sample '
                          f'{idx} ({err}); {self.num_skipped} skipped so far',
                          logger='current', level=30)
                idx = (idx + 1) % len(self)
        raise CorruptSampleError(
            f'{type(self).__name__}: every sample is invalid')


def clip_sample_range(sample_range, size: int, who: str, where: str):
    """``(start, stop)`` of ``sample_range`` within a split of ``size``
    samples: an empty result is an error naming the range and the size; a
    ``stop`` past the end is cut with a logged warning."""
    start, stop = sample_range or (0, size)
    if start >= size:
        raise ValueError(
            f'{who} sample_range={tuple(sample_range)} starts at or past the '
            f'end of {where}, which has {size} samples; choose a range '
            f'within [0, {size})')
    if stop > size:
        print_log(f'{who}: sample_range={tuple(sample_range)} ends past the '
                  f'{size} samples of {where}; using ({start}, {size})',
                  logger='current', level=30)
    return start, min(stop, size)


def with_test_mode(info: dict, test_mode: bool) -> dict:
    """``info`` with ``info['test_mode']`` set: the flag the packing step
    reads to choose the frame of the ground truth (input frame for
    training, original image frame for evaluation)."""
    info['test_mode'] = bool(test_mode)
    return info


def fetch_skipping_invalid(dataset, idx: int, skip_of: Callable[[int], bool]
                           ) -> dict:
    """``dataset.prepare_data(idx)``; on a :class:`CorruptSampleError` of a
    sample whose source skips invalid samples (``skip_of(idx)``), log and
    move on to the next index. Used by wrappers of mtlbox datasets."""
    if not dataset._fully_initialized:
        dataset.full_init()
    n = len(dataset)
    for _ in range(max(1, n)):
        try:
            data = dataset.prepare_data(idx)
        except CorruptSampleError as err:
            if not skip_of(idx):
                raise
            print_log(f'{type(dataset).__name__}: skipping invalid sample '
                      f'{idx} ({err})', logger='current', level=30)
            idx = (idx + 1) % n
            continue
        if data is None:
            raise RuntimeError(f'{type(dataset).__name__}: the pipeline '
                               f'dropped sample {idx} (returned None)')
        return data
    raise CorruptSampleError(f'{type(dataset).__name__}: every sample is '
                             'invalid')


def list_files(folder: str, exts: Iterable[str]) -> List[str]:
    exts = tuple(e.lower() for e in exts)
    return sorted(f for f in os.listdir(folder) if f.lower().endswith(exts))
