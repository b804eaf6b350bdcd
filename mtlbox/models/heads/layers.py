"""Small building blocks shared by the heads."""
from typing import Optional

from torch import Tensor, nn


def norm_layer(norm_cfg: Optional[dict], channels: int) -> nn.Module:
    """``BatchNorm2d`` (``norm_cfg=None`` or ``dict(type='BN')``) or
    ``GroupNorm`` (``dict(type='GN', num_groups=G)``) over ``channels``."""
    cfg = dict(norm_cfg or dict(type='BN'))
    kind = cfg.pop('type', None)
    if kind == 'BN' and not cfg:
        return nn.BatchNorm2d(channels)
    if kind == 'GN' and set(cfg) == {'num_groups'}:
        if channels % cfg['num_groups']:
            raise ValueError(f'norm_cfg={norm_cfg}: {channels} channels do '
                             f'not split into {cfg["num_groups"]} groups')
        return nn.GroupNorm(cfg['num_groups'], channels)
    raise ValueError(f'norm_cfg={norm_cfg}: use dict(type=\'BN\') or '
                     "dict(type='GN', num_groups=G)")


def conv_bn_act(in_ch: int, out_ch: int, kernel: int = 3, stride: int = 1,
                groups: int = 1, dilation: int = 1,
                act: type = nn.ReLU,
                norm_cfg: Optional[dict] = None) -> nn.Sequential:
    """``conv(k, no bias) -> norm -> act`` with 'same' padding; the norm is
    BN unless ``norm_cfg`` says otherwise (:func:`norm_layer`)."""
    pad = dilation * (kernel - 1) // 2
    layers = [nn.Conv2d(in_ch, out_ch, kernel, stride, pad, dilation,
                        groups=groups, bias=False),
              norm_layer(norm_cfg, out_ch)]
    if act is not None:
        layers.append(act(inplace=True))
    return nn.Sequential(*layers)


class DSConv(nn.Sequential):
    """Depthwise-separable conv: depthwise ``k x k``-BN-ReLU6, then
    pointwise 1x1-BN-ReLU6 (MobileNet, Howard et al. 2017)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int = 3):
        super().__init__(
            conv_bn_act(in_ch, in_ch, kernel, groups=in_ch, act=nn.ReLU6),
            conv_bn_act(in_ch, out_ch, 1, act=nn.ReLU6))


class MBConv(nn.Module):
    """Inverted residual (MobileNetV2, Sandler et al. 2018): 1x1 expand
    (``expand x in``)-BN-ReLU6, depthwise ``k x k``-BN-ReLU6, 1x1 project
    -BN; residual when shapes agree (and ``residual=True``). With
    ``out_bias=True`` the projection is a plain biased conv (no BN) so the
    block can be a prediction layer with a prior bias."""

    def __init__(self, in_ch: int, out_ch: int, expand: int = 2,
                 kernel: int = 3, out_bias: bool = False,
                 residual: bool = True):
        super().__init__()
        mid = in_ch * expand
        self.expand = conv_bn_act(in_ch, mid, 1, act=nn.ReLU6)
        self.depthwise = conv_bn_act(mid, mid, kernel, groups=mid,
                                     act=nn.ReLU6)
        if out_bias:
            self.project = nn.Conv2d(mid, out_ch, 1)
        else:
            self.project = conv_bn_act(mid, out_ch, 1, act=None)
        self.residual = residual and in_ch == out_ch and not out_bias

    @property
    def out_conv(self) -> nn.Conv2d:
        """The last conv (to set a prior bias)."""
        return self.project if isinstance(self.project, nn.Conv2d) else \
            self.project[0]

    def forward(self, x: Tensor) -> Tensor:
        out = self.project(self.depthwise(self.expand(x)))
        return x + out if self.residual else out
