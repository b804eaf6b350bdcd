"""Per-sample random augmentation, so a resumed run draws what the
uninterrupted run drew."""
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop

from mtlbox.datasets.transforms.random_state import find_worker_rngs
from mtlbox.registry import HOOKS


@HOOKS.register_module()
class AugmentationRNGHook(Hook):
    """Makes the random transforms of the training data draw per sample.

    Before every epoch of an epoch-based run it gives each random
    generator of the training dataset (``WorkerRNG`` of the mtlbox
    transforms, found through dataset wrappers and pipelines) the run's
    seed, its position as a salt and the epoch. A sample's flips, crops and
    colour changes are then a function of ``(seed, epoch, sample index)``
    alone: the same with 0 or 8 DataLoader workers, persistent or not, new
    every epoch, and identical after ``--resume`` (mmengine restores the
    seed from the checkpoint). Without this hook (or in iteration-based
    runs, which have no epochs) each worker draws from its own stream, as
    described in ``mtlbox/datasets/transforms/random_state.py``.
    """

    priority = 'VERY_HIGH'

    def __init__(self):
        self._rngs = None

    def before_train(self, runner) -> None:
        if not isinstance(runner.train_loop, EpochBasedTrainLoop):
            runner.logger.info(
                'AugmentationRNGHook: iteration-based loop, random '
                'transforms draw from per-worker streams (a resumed run '
                'replays the skipped batches through them)')
            return
        self._rngs = find_worker_rngs(runner.train_loop.dataloader.dataset)
        if self._rngs:
            runner.logger.info(
                f'AugmentationRNGHook: {len(self._rngs)} random transform '
                f'generator(s) draw per (seed={runner.seed}, epoch, sample)')

    def before_train_epoch(self, runner) -> None:
        for salt, rng in enumerate(self._rngs or ()):
            rng.set_epoch(runner.epoch, runner.seed, salt)
