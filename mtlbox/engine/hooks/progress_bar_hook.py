"""A terminal progress bar for evaluation runs."""
from mmengine.hooks import Hook
from mmengine.utils import ProgressBar

from mtlbox.registry import HOOKS


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """Shows ``done/total, images/s, ETA`` while testing (rank 0 only).

    ``tools/test.py`` adds it unless ``--no-progress`` is given.
    """

    priority = 'VERY_LOW'

    def __init__(self):
        self._bar = None

    def before_test_epoch(self, runner) -> None:
        if runner.rank == 0:
            self._bar = ProgressBar(len(runner.test_dataloader.dataset))

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        if self._bar is not None:
            for _ in range(len(outputs) if outputs is not None else 1):
                self._bar.update()

    def after_test_epoch(self, runner, metrics=None) -> None:
        if self._bar is not None:
            self._bar.file.write('\n')
            self._bar = None
