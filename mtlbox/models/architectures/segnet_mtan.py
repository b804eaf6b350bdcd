"""MTAN's task attention networks over a SegNet (the NYUv2 benchmark model)."""
from typing import Dict, List, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mtlbox.registry import MODELS
from ..backbones.segnet import segnet_conv, xavier_init_
from .base import BaseArchitecture


def attention_block(c_in: int, c_out: int) -> nn.Sequential:
    """MTAN attention module: ``1x1 conv -> BN -> ReLU -> 1x1 conv -> BN ->
    sigmoid`` (both convs with bias, hidden width ``c_out``)."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 1), nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 1), nn.BatchNorm2d(c_out), nn.Sigmoid())


@MODELS.register_module()
class SegNetMTAN(BaseArchitecture):
    """Multi-Task Attention Network on SegNet, as in Liu, Johns & Davison,
    "End-to-End Multi-Task Learning with Attention", CVPR 2019 (the model
    of the MTAN, Nash-MTL and FAMO NYUv2 / Cityscapes tables).

    Reads the 20 maps of ``SegNet(out='all')`` (``enc_in``, ``enc_out``,
    ``dec_up``, ``dec_out``, five stages each; widths ``w``) and gives each
    task one ``[N, w_0, H, W]`` map. For task ``t``, encoder stage ``i``::

        m = A^t_i(enc_in[i])                    (i = 0)
        m = A^t_i([enc_in[i] ; p_{i-1}])        (i > 0)
        p_i = maxpool2(E_i(m * enc_out[i]))

    and decoder step ``j`` (mirroring encoder stage ``k = 4 - j``; ``q_{-1}
    = p_4``)::

        m = B^t_k([dec_up[j] ; D_k(up2(q_{j-1}))])
        q_j = m * dec_out[j]

    ``A``/``B`` are :func:`attention_block` (task-specific); ``E_k``
    (``w_k -> w_{k+1}``) and ``D_k`` (``w_k -> w_{k-1}``) are 3x3
    conv-BN-ReLU layers shared by the tasks; ``up2`` is bilinear upsampling
    (``align_corners=True``) to ``dec_up[j]``'s size. Task ``t`` receives
    ``[q_4]``.

    Sharing for gradient balancers: ``E``/``D`` are shared, each task's
    ``A``/``B`` are its own (:meth:`task_parameters`). Difference from the
    Nash-MTL / FAMO code: their ``shared_parameters()`` is every parameter
    whose name lacks ``pred``, so it also counts the task attention modules
    (their columns of the gradient matrix are zero for the other tasks).

    Parameters with the default widths, 3 tasks: 19,173,888 (attention
    3 x 2,984,576, shared E/D 10,220,160); with SegNet and the three
    reference heads 44,229,073, the reference's 44,229,076 minus its 3
    uncertainty weights, which live in the ``UW`` balancer here.

    Args:
        widths: the backbone's five stage widths.
        tasks: task names (set by the model).
    """

    def __init__(self, widths: Sequence[int] = (64, 128, 256, 512, 512),
                 tasks: Sequence[str] = ()):
        super().__init__(tasks)
        w = list(widths)
        if len(w) != 5:
            raise ValueError(f'SegNetMTAN widths={widths}: give five widths')
        self.widths = w
        self.encoder_shared = nn.ModuleList(
            segnet_conv(w[i], w[min(i + 1, 4)]) for i in range(5))
        self.decoder_shared = nn.ModuleList(
            segnet_conv(w[i], w[max(i - 1, 0)]) for i in range(5))
        self.encoder_attention = nn.ModuleDict()
        self.decoder_attention = nn.ModuleDict()
        for task in self.tasks:
            self.encoder_attention[task] = nn.ModuleList(
                attention_block(w[i] if i == 0 else 2 * w[i], w[i])
                for i in range(5))
            self.decoder_attention[task] = nn.ModuleList(
                attention_block(2 * w[0] if k == 0 else w[k] + w[k - 1],
                                w[max(k - 1, 0)]) for k in range(5))
        xavier_init_(self)

    def forward(self, feats: List[Tensor],
                tasks: List[str]) -> Dict[str, List[Tensor]]:
        if len(feats) != 20:
            raise ValueError(
                f'SegNetMTAN reads the 20 maps of SegNet(out="all"), got '
                f'{len(feats)}; set backbone=dict(type="SegNet", out="all")')
        enc_in, enc_out, dec_up, dec_out = (feats[5 * n:5 * n + 5]
                                            for n in range(4))
        out = {}
        for task in tasks:
            enc_att = self.encoder_attention[task]
            dec_att = self.decoder_attention[task]
            x = None
            for i in range(5):
                u = enc_in[i] if i == 0 else torch.cat([enc_in[i], x], 1)
                x = F.max_pool2d(
                    self.encoder_shared[i](enc_att[i](u) * enc_out[i]), 2, 2)
            for j in range(5):
                k = 4 - j
                x = F.interpolate(x, size=dec_up[j].shape[-2:],
                                  mode='bilinear', align_corners=True)
                x = self.decoder_shared[k](x)
                x = dec_att[k](torch.cat([dec_up[j], x], 1)) * dec_out[j]
            out[task] = [x]
        return out

    def task_parameters(self, task: str) -> List[nn.Parameter]:
        return (list(self.encoder_attention[task].parameters()) +
                list(self.decoder_attention[task].parameters()))
