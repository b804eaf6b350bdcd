"""IMTL-L: the loss-balance half of IMTL."""
from typing import Dict

import torch
from torch import Tensor, nn

from mtlbox.registry import BALANCERS
from ..base import BaseBalancer, Weighting, as_loss_vector


def imtl_l_loss(losses: Tensor, scales: Tensor) -> Tensor:
    """``sum_t e^{s_t} L_t - s_t`` for losses [T] and log-scales s [T]."""
    return (torch.exp(scales) * losses - scales).sum()


@BALANCERS.register_module()
class IMTLL(BaseBalancer):
    """IMTL-L (Liu et al., "Towards Impartial Multi-task Learning", ICLR
    2021): ``L = sum_t e^{s_t} L_t - s_t`` with learnable ``s`` [T] (start
    0), trained by the Runner's optimizer with this loss. At the optimum of
    ``s`` every scaled loss ``e^{s_t} L_t`` equals 1. Registered as
    ``IMTLL`` (alias ``IMTL-L``).

    Shapes: ``{task: scalar}`` (present tasks) -> scalar total loss.
    """

    needs = 'losses'

    def __init__(self, tasks):
        super().__init__(tasks)
        self.scales = nn.Parameter(torch.zeros(len(self.tasks)))

    def weigh(self, losses: Dict[str, Tensor]) -> Weighting:
        tasks = self.present(losses)
        s = self.scales[self.index(tasks).to(self.scales.device)]
        total = imtl_l_loss(as_loss_vector(losses, tasks), s)
        return Weighting(total=total, weights=torch.exp(s).detach())


BALANCERS.register_module(name='IMTL-L', module=IMTLL)
