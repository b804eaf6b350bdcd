"""One progress bar per training epoch, and the validation results."""
import sys
import time

from mmengine.hooks import Hook

from mtlbox.registry import HOOKS


def headline(metrics: dict) -> dict:
    """The first metric of each task (``seg/mIoU``, ``depth/abs_err``...)
    and every ``mtl/*`` one; the log file has them all."""
    out, seen = {}, set()
    for key, value in metrics.items():
        task = key.split('/', 1)[0]
        if task == 'mtl' or task not in seen:
            out[key] = value
            seen.add(task)
    return out


@HOOKS.register_module()
class TrainProgressHook(Hook):
    """Rank 0 shows, per epoch,
    ``epoch 3/8 [#########.........]  40/80  loss 1.234  2.9 it/s  ETA 14s``
    (redrawn in place on a terminal, one line per epoch otherwise), and after
    each validation one line of its metrics.

    ``tools/train.py`` adds it unless ``--verbose`` is given (then mmengine's
    ``LoggerHook`` lines show instead); the loss is the mean of the epoch's
    ``loss`` outputs so far; the validation line has the :func:`headline`
    metrics.

    Args:
        width: characters of the bar.
        stream: where to write (``sys.stdout`` by default).
    """

    # before BalancerHook ('LOW'), whose epoch line follows the bar
    priority = 'NORMAL'

    def __init__(self, width: int = 30, stream=None):
        self.width = int(width)
        self.stream = stream
        self._start = None
        self._done = 0
        self._loss_sum = 0.0

    @property
    def _out(self):
        return self.stream or sys.stdout

    def _tty(self) -> bool:
        return bool(getattr(self._out, 'isatty', lambda: False)())

    def before_train_epoch(self, runner) -> None:
        self._start, self._done, self._loss_sum = time.time(), 0, 0.0

    def _line(self, runner) -> str:
        loop = runner.train_loop
        total = len(loop.dataloader)
        filled = self.width * self._done // max(total, 1)
        elapsed = time.time() - self._start
        rate = self._done / elapsed if elapsed > 0 else 0.0
        eta = (total - self._done) / rate if rate > 0 else 0.0
        loss = self._loss_sum / max(self._done, 1)
        timing = (f'ETA {eta:.0f}s' if self._done < total
                  else f'{elapsed:.0f}s')
        return (f'epoch {runner.epoch + 1}/{loop.max_epochs} '
                f'[{"#" * filled}{"." * (self.width - filled)}] '
                f'{self._done:>{len(str(total))}}/{total}  loss {loss:.4f}  '
                f'{rate:.1f} it/s  {timing}')

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if runner.rank != 0 or self._start is None:
            return
        self._done += 1
        loss = (outputs or {}).get('loss')
        if loss is not None:
            self._loss_sum += float(loss)
        if self._tty():
            self._out.write('\r' + self._line(runner))
            self._out.flush()

    def after_train_epoch(self, runner) -> None:
        if runner.rank != 0 or self._start is None:
            return
        self._out.write(('\r' if self._tty() else '') + self._line(runner)
                        + '\n')
        self._out.flush()
        self._start = None

    def after_val_epoch(self, runner, metrics=None) -> None:
        if runner.rank != 0 or not metrics:
            return
        text = '  '.join(f'{k} {v:.4f}' if isinstance(v, float) else
                         f'{k} {v}' for k, v in headline(metrics).items())
        self._out.write(f'  val after epoch {runner.epoch}: {text}\n')
        self._out.flush()
