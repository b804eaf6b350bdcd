"""IMTL: IMTL-G on the shared parameters + IMTL-L loss scales."""
from typing import List

import torch
from torch import Tensor, nn

from mtlbox.registry import BALANCERS
from ..base import Aggregation, GramianBalancer
from .imtl_g import imtl_g_weights_from_gram


@BALANCERS.register_module()
class IMTL(GramianBalancer):
    """IMTL, hybrid (Liu et al., ICLR 2021).

    Loss scales (IMTL-L): task t's loss is ``e^{s_t} L_t - s_t`` with
    learnable ``s`` [T] (start 0). Its gradient rows are ``e^{s_t} g_t``;
    IMTL-G weights them (:func:`imtl_g_weights`) for the shared parameters,
    the task-specific parameters get ``e^{s_t}`` times their own gradient,
    and ``s`` is trained on ``sum_t e^{s_t} L_t - s_t`` (returned to the
    engine as the balancer's parameter loss, so the Runner's optimizer
    steps it). G [T, P], losses [T] -> d [P].
    """

    needs = 'grads'

    def __init__(self, tasks):
        super().__init__(tasks)
        self.scales = nn.Parameter(torch.zeros(len(self.tasks)))

    def aggregate_gram(self, gram: Tensor, losses: Tensor,
                       tasks: List[str]) -> Aggregation:
        idx = self.index(tasks).to(self.scales.device)
        s = self.scales[idx]
        factor = torch.exp(s.detach()).to(gram)
        gram = gram * (factor[:, None] * factor[None, :])
        weights = imtl_g_weights_from_gram(gram)
        scale_loss = (torch.exp(s) * losses.detach().to(s) - s).sum()
        return Aggregation(weights=weights * factor, specific_weights=factor,
                           parameter_loss=scale_loss)
