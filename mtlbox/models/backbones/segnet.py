"""SegNet encoder-decoder of the MTAN NYUv2 / Cityscapes benchmark."""
from typing import List, Sequence

import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .base_backbone import maybe_checkpoint


def segnet_conv(c_in: int, c_out: int) -> nn.Sequential:
    """``3x3 conv (bias) -> BN -> ReLU``, the block of every SegNet layer."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


def xavier_init_(module: nn.Module) -> None:
    """The MTAN reference initialisation: xavier-normal conv / linear
    weights, zero biases, BN weight 1 and bias 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_normal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


#: names of the maps ``SegNet(out='all')`` returns, in order (5 each)
SEGNET_MAPS = ('enc_in', 'enc_out', 'dec_up', 'dec_out')


@MODELS.register_module()
class SegNet(BaseModule):
    """SegNet (Badrinarayanan et al., TPAMI 2017) as used by MTAN (Liu,
    Johns & Davison, CVPR 2019) and the Nash-MTL / FAMO NYUv2 and
    Cityscapes benchmarks.

    Five encoder stages at widths ``w = (64, 128, 256, 512, 512)``; stage
    ``i`` is ``enc_in[i]`` (one conv ``w[i-1] -> w[i]``, ``3`` input
    channels for stage 0) then ``enc_conv[i]`` (one conv at ``w[i]`` for
    stages 0 and 1, two for stages 2..4), then 2x2 max pooling that keeps
    its indices. Five decoder stages mirror it: max *unpooling* with the
    encoder's indices, ``dec_in`` (one conv to ``w[i-1]``, ``w[0]`` at
    stage 0) and ``dec_conv`` (one or two convs at that width). Every conv
    is :func:`segnet_conv` (3x3 with bias, BN, ReLU); weights are
    initialised as the reference (:func:`xavier_init_`).

    Input ``[N, 3, H, W]``, ``H`` and ``W`` multiples of 32 (pad with
    ``pad_size_divisor=32``; other sizes work too, unpooling is given the
    encoder's sizes).

    Outputs:

    - ``out='decoder'`` (default, the "split" / hard-sharing model):
      ``[dec_out[4]]``, one ``[N, 64, H, W]`` map.
    - ``out='all'`` (for :class:`~mtlbox.models.architectures.SegNetMTAN`):
      20 maps, :data:`SEGNET_MAPS` x 5 stages: ``enc_in[i]`` and
      ``enc_out[i]`` (encoder stage ``i`` before / after ``enc_conv``, at
      ``H / 2^i``), ``dec_up[j]`` and ``dec_out[j]`` (decoder step ``j``
      after unpooling / after its convs, at ``H / 2^(4-j)``).

    Parameters with the default widths: 24,943,296 (encoder 14,723,136,
    decoder 10,220,160), the reference's shared network exactly
    (docs/models.md).

    Args:
        in_channels: image channels.
        widths: the five stage widths.
        out: ``'decoder'`` or ``'all'``.
        with_cp: activation checkpointing of every conv block (less
            memory, one more forward pass; loss and gradients unchanged).
    """

    def __init__(self, in_channels: int = 3,
                 widths: Sequence[int] = (64, 128, 256, 512, 512),
                 out: str = 'decoder', with_cp: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        w = list(widths)
        if len(w) != 5:
            raise ValueError(f'SegNet widths={widths}: give five stage widths')
        if out not in ('decoder', 'all'):
            raise ValueError(f"SegNet out={out!r}: use 'decoder' or 'all'")
        self.widths, self.out = w, out
        self.with_cp = with_cp
        self.enc_in = nn.ModuleList(
            segnet_conv(in_channels if i == 0 else w[i - 1], w[i])
            for i in range(5))
        self.enc_conv = nn.ModuleList(
            nn.Sequential(*(segnet_conv(w[i], w[i])
                            for _ in range(1 if i < 2 else 2)))
            for i in range(5))
        # decoder layers indexed by the encoder stage they mirror
        self.dec_in = nn.ModuleList(
            segnet_conv(w[i], w[max(i - 1, 0)]) for i in range(5))
        self.dec_conv = nn.ModuleList(
            nn.Sequential(*(segnet_conv(w[max(i - 1, 0)], w[max(i - 1, 0)])
                            for _ in range(1 if i < 2 else 2)))
            for i in range(5))
        self.out_channels = ([w[0]] if out == 'decoder' else
                             w + w + w[::-1] + [w[max(i - 1, 0)]
                                                for i in range(4, -1, -1)])
        xavier_init_(self)

    def forward(self, x: Tensor) -> List[Tensor]:
        enc_in, enc_out, indices, sizes = [], [], [], []
        cp = self.with_cp
        for i in range(5):
            enc_in.append(maybe_checkpoint(self.enc_in[i], x, cp))
            enc_out.append(maybe_checkpoint(self.enc_conv[i], enc_in[-1], cp))
            sizes.append(enc_out[-1].shape[-2:])
            x, idx = F.max_pool2d(enc_out[-1], 2, 2, return_indices=True)
            indices.append(idx)
        dec_up, dec_out = [], []
        for j in range(5):
            i = 4 - j  # the encoder stage this decoder step mirrors
            dec_up.append(F.max_unpool2d(x, indices[i], 2, 2,
                                         output_size=sizes[i]))
            x = maybe_checkpoint(self.dec_in[i], dec_up[-1], self.with_cp)
            x = maybe_checkpoint(self.dec_conv[i], x, self.with_cp)
            dec_out.append(x)
        if self.out == 'decoder':
            return [x]
        return enc_in + enc_out + dec_up + dec_out
