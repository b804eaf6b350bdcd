"""Random loss weighting."""
from typing import Dict

import torch
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import BaseBalancer, Weighting, as_loss_vector


@BALANCERS.register_module()
class RLW(BaseBalancer):
    """Random loss weighting (Lin et al., TMLR 2022):
    ``w = softmax(z), z ~ N(0, I_T)`` redrawn every step, ``L = sum w_t L_t``
    (T = present tasks). The generator state is a buffer, so a resumed run
    draws the same weights.

    Args:
        seed: seed of the weight generator.

    Shapes: ``{task: scalar}`` (present tasks) -> scalar total loss.
    """

    needs = 'losses'

    def __init__(self, tasks, seed: int = 0):
        super().__init__(tasks)
        self.register_rng(seed)

    def weigh(self, losses: Dict[str, Tensor]) -> Weighting:
        tasks = self.present(losses)
        gen = self.generator()
        z = torch.randn(len(tasks), generator=gen)
        self.save_rng(gen)
        vec = as_loss_vector(losses, tasks)
        w = torch.softmax(z, 0).to(vec)
        return Weighting(total=(w * vec).sum(), weights=w)
