"""Connects the loss balancer to the training loop."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mtlbox.registry import HOOKS


def resolve_total_iters(balancer, max_iters: int) -> list:
    """Set ``total_iters='auto'`` of ``balancer`` and of every balancer
    inside it (``Compose``) to ``max_iters``, the run's training length;
    returns the class names of those set."""
    done = []
    for module in [balancer] + list(balancer.modules()):
        if getattr(module, 'total_iters', None) == 'auto':
            module.total_iters = int(max_iters)
            done.append(type(module).__name__)
    return done


def get_balancer(runner):
    model = runner.model.module if is_model_wrapper(runner.model) \
        else runner.model
    return getattr(model, 'balancer', None)


@HOOKS.register_module()
class BalancerHook(Hook):
    """Connects the balancer to the Runner:

    - ``after_val_epoch``: feeds the validation metrics to
      ``balancer.after_val`` (DTP, AMTL);
    - ``after_train_epoch``: calls ``balancer.after_train_epoch`` (DWA) and
      logs the task weights of the last step;
    - every ``interval`` iterations: writes the effective task weights to
      the visualizer backends as ``balancer/<task>`` (the per-step weights
      are also in the model's log variables ``<task>.weight``, which the
      LoggerHook prints);
    - ``before_train``: ``total_iters='auto'`` of a scheduled balancer
      (GeMTL) becomes the train loop's ``max_iters``; a sample-level balancer without a held-out stream
      (SLGrad) gets the Runner's ``val_dataloader``; on resume, a balancer
      driven by validation metrics (DTP, AMTL) gets the evaluation that
      followed the resumed epoch's checkpoint replayed (mmengine saves the
      epoch checkpoint *before* validating, so that update is not in it);
      ``revalidate_on_resume=False`` turns this off. The replay runs once
      every hook's ``before_train`` has run (at the first
      ``before_train_epoch``, or at ``after_train`` when the resumed run has
      no epoch left), so the hooks that see its metrics are set up
      (CheckpointHook's ``save_best`` writes the best checkpoint).

    Priority ``'LOW'`` so it runs after the logger and checkpoint hooks have
    seen the metrics.

    Args:
        interval: iterations between weight logs to the visualizer (50).
    """

    priority = 'LOW'

    def __init__(self, interval: int = 50, revalidate_on_resume: bool = True):
        self.interval = int(interval)
        self.revalidate_on_resume = revalidate_on_resume
        self._replay_pending = False

    def before_train(self, runner) -> None:
        self._replay_pending = False
        balancer = get_balancer(runner)
        if balancer is None:
            return
        for name in resolve_total_iters(balancer,
                                        runner.train_loop.max_iters):
            runner.logger.info(f"BalancerHook: {name} total_iters='auto' -> "
                               f'{runner.train_loop.max_iters}')
        self._replay_pending = (self.revalidate_on_resume
                                and self._missed_val(runner, balancer))
        if not hasattr(balancer, 'set_val_batches'):
            return
        if not balancer.has_val_source():
            loop = runner.val_loop
            loader = None if loop is None else loop.dataloader
            if loader is None:
                raise RuntimeError(
                    f'{type(balancer).__name__} needs held-out batches: give '
                    'the balancer val_dataloader=dict(...) or the Runner a '
                    'val_dataloader')
            balancer.set_val_batches(loader)

    def _replay_missed_val(self, runner) -> None:
        if not self._replay_pending:
            return
        self._replay_pending = False
        balancer = get_balancer(runner)
        runner.logger.info('BalancerHook: replaying the validation of '
                           f'epoch {runner.epoch} for '
                           f'{type(balancer).__name__}.after_val')
        runner.val_loop.run()

    def before_train_epoch(self, runner) -> None:
        self._replay_missed_val(runner)

    def after_train(self, runner) -> None:
        self._replay_missed_val(runner)

    @staticmethod
    def _uses_val(balancer) -> bool:
        """Some balancer in ``balancer`` (itself or a part of a Compose,
        which only forwards the call) learns from validation metrics."""
        from mtlbox.balancers import BaseBalancer, Compose
        subs = [balancer] + list(balancer.modules())
        return any(
            isinstance(m, BaseBalancer) and not isinstance(m, Compose)
            and type(m).after_val is not BaseBalancer.after_val
            for m in subs)

    def _missed_val(self, runner, balancer) -> bool:
        """Resumed at the end of an epoch whose validation ran after the
        checkpoint was written."""
        loop = getattr(runner, 'train_loop', None)
        epoch = getattr(runner, 'epoch', 0)
        cfg = getattr(runner, 'cfg', None) or {}
        if not cfg.get('resume', False) or epoch <= 0 or \
                getattr(runner, 'val_loop', None) is None or \
                not self._uses_val(balancer):
            return False
        begin = getattr(loop, 'val_begin', 1)
        interval = getattr(loop, 'val_interval', 1)
        last = epoch == getattr(loop, 'max_epochs', None)
        return epoch >= begin and (epoch % interval == 0 or last)

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        balancer = get_balancer(runner)
        if balancer is None or not self.every_n_train_iters(
                runner, self.interval):
            return
        scalars = {f'balancer/{t}': float(w)
                   for t, w in balancer.task_weights.items()}
        runner.visualizer.add_scalars(scalars, step=runner.iter + 1)

    def after_train_epoch(self, runner) -> None:
        balancer = get_balancer(runner)
        if balancer is None:
            return
        balancer.after_train_epoch(runner.epoch)
        weights = ', '.join(f'{t}={w:.4f}'
                            for t, w in balancer.task_weights.items())
        runner.logger.info(f'{type(balancer).__name__} task weights: {weights}')

    def after_val_epoch(self, runner, metrics=None) -> None:
        balancer = get_balancer(runner)
        if balancer is not None and metrics:
            balancer.after_val(dict(metrics))
