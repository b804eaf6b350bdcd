"""Connects the loss balancer to the training loop."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mtlbox.registry import HOOKS


def get_balancer(runner):
    model = runner.model.module if is_model_wrapper(runner.model) \
        else runner.model
    return getattr(model, 'balancer', None)


@HOOKS.register_module()
class BalancerHook(Hook):
    """Feeds validation metrics to ``balancer.after_val`` (DTP, AMTL),
    calls ``balancer.after_train_epoch`` (DWA) and logs the task weights of
    the last step at each epoch end.

    Priority ``'LOW'`` so it runs after the logger and checkpoint hooks have
    seen the metrics.
    """

    priority = 'LOW'

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
