"""GradDrop: gradient sign dropout."""
import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import BaseBalancer


def graddrop(grads: Tensor, uniform: Tensor, leak: float = 0.0) -> Tensor:
    """Sign purity ``P = (1 + sum_t g_t / sum_t |g_t|) / 2`` per coordinate;
    keep the positive entries where ``P > U`` and the negative ones where
    ``P < U`` (U ~ U(0, 1) per coordinate); ``leak`` lets that fraction of
    every gradient through. G [T, P], uniform [P] -> d [P].

    Computed from the sum of the positive parts ``pos`` and of the negative
    parts ``neg`` (``P > U  <=>  pos > U (pos - neg)``; the tie ``P = U``
    has probability 0 and keeps the negative part), reusing one buffer, so
    the cost is a few passes over G.
    """
    pos = grads[0].clamp_min(0)
    buf = torch.empty_like(pos)
    for row in grads[1:]:
        pos.add_(torch.clamp_min(row, 0, out=buf))
    neg = grads.sum(0).sub_(pos)
    l1 = pos - neg
    picked = torch.where(pos > l1.mul_(uniform), pos, neg)
    if leak == 0.0:
        return picked
    return leak * (pos + neg) + (1 - leak) * picked


@BALANCERS.register_module()
class GradDrop(BaseBalancer):
    """GradDrop (Chen et al., "Just Pick a Sign", NeurIPS 2020): see
    :func:`graddrop`. The paper applies it to the gradients of a shared
    activation layer; here it acts on the shared parameters (``needs=
    'grads'``) or, with ``needs='features'``, on the shared feature maps
    (as the paper). The uniform draws come from a generator on G's device
    seeded from a checkpointed CPU stream.

    Args:
        leak: fraction of every gradient always kept (0).
        needs: ``'grads'`` or ``'features'``.
        seed: seed of the random stream.

    Shapes: G [T, P] (rows: present tasks), losses [T] -> d [P].
    """

    needs = 'grads'

    def __init__(self, tasks, leak: float = 0.0, needs: str = 'grads',
                 seed: int = 0):
        super().__init__(tasks)
        if needs not in ('grads', 'features'):
            raise ValueError(f"GradDrop needs={needs!r}: expected 'grads' or"
                             " 'features'")
        self.needs = needs
        self.leak = float(leak)
        self.register_rng(seed)

    def aggregate(self, grads: Tensor, losses: Tensor) -> Tensor:
        tasks = self.rows(grads.shape[0])
        gen = self.generator()
        seed = int(torch.randint(2**62, (1,), generator=gen))
        self.save_rng(gen)
        device_gen = torch.Generator(device=grads.device).manual_seed(seed)
        uniform = torch.empty(grads.shape[1], device=grads.device,
                              dtype=grads.dtype).uniform_(
                                  generator=device_gen)
        self._set_task_weights(tasks, [1.0] * len(tasks))
        return graddrop(grads, uniform, self.leak)
