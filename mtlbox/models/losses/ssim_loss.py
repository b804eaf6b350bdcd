"""Structural similarity (Wang et al., IEEE TIP 2004) and losses for image
restoration (underwater enhancement)."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mtlbox.registry import MODELS
from .utils import check_shapes, masked_mean, with_avg_factor


def gaussian_window(size: int = 11, sigma: float = 1.5,
                    dtype=torch.float32, device=None) -> Tensor:
    """Normalised 2-D Gaussian [size, size] (outer product of 1-D ones)."""
    x = torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2
    g = torch.exp(-x**2 / (2 * sigma**2))
    g = g / g.sum()
    return g[:, None] * g[None, :]


def ssim_map(x: Tensor, y: Tensor, data_range: float = 1.0,
             window: int = 11, sigma: float = 1.5, k1: float = 0.01,
             k2: float = 0.03, same: bool = False) -> Tensor:
    """Per-pixel, per-channel SSIM [B, C, H', W'].

    ``SSIM = (2 mu_x mu_y + C1)(2 s_xy + C2) / ((mu_x^2 + mu_y^2 + C1)
    (s_x^2 + s_y^2 + C2))`` with Gaussian-weighted local statistics
    (window 11, sigma 1.5), ``C1 = (k1 L)^2``, ``C2 = (k2 L)^2``, ``L`` the
    data range. ``same=False``: only windows fully inside the image
    (``H' = H - window + 1``, as the authors' MATLAB code); ``same=True``:
    reflect padding, ``H' = H`` (for a loss).
    """
    c = x.shape[1]
    if same:
        pad = window // 2
        x = F.pad(x, (pad, pad, pad, pad), mode='reflect')
        y = F.pad(y, (pad, pad, pad, pad), mode='reflect')
    # the Gaussian is separable: one 11x1 and one 1x11 pass over the five
    # maps at once
    g = gaussian_window(window, sigma, x.dtype, x.device)[window // 2]
    g = g / g.sum()
    stack = torch.cat([x, y, x * x, y * y, x * y], dim=1)
    n = stack.shape[1]
    out = F.conv2d(stack, g.reshape(1, 1, window, 1).expand(
        n, 1, window, 1).contiguous(), groups=n)
    out = F.conv2d(out, g.reshape(1, 1, 1, window).expand(
        n, 1, 1, window).contiguous(), groups=n)
    mu_x, mu_y, exx, eyy, exy = out.split(c, dim=1)
    sxx = exx - mu_x**2
    syy = eyy - mu_y**2
    sxy = exy - mu_x * mu_y
    c1, c2 = (k1 * data_range)**2, (k2 * data_range)**2
    return ((2 * mu_x * mu_y + c1) * (2 * sxy + c2) /
            ((mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2)))


@MODELS.register_module()
class SSIMLoss(nn.Module):
    """``1 - SSIM`` (reflect-padded map, :func:`ssim_map`) averaged over
    channels and valid pixels. Shapes: [B, C, H, W] (values in
    ``[0, data_range]``), optional ``valid`` [B, H, W] -> scalar or [B]."""

    loss_name = 'loss_ssim'

    def __init__(self, loss_weight: float = 1.0, data_range: float = 1.0,
                 window: int = 11):
        super().__init__()
        self.loss_weight, self.data_range = loss_weight, data_range
        self.window = window

    def forward(self, pred: Tensor, target: Tensor,
                valid: Optional[Tensor] = None, per_sample=False,
                return_avg_factor: bool = False):
        check_shapes(pred, target, 'SSIMLoss')
        if min(pred.shape[-2:]) <= self.window // 2:
            raise ValueError(f'SSIMLoss window {self.window} needs images '
                             f'larger than {self.window // 2} pixels, got '
                             f'{tuple(pred.shape[-2:])}')
        loss = 1 - ssim_map(pred, target, self.data_range, self.window,
                            same=True).mean(dim=1)
        if valid is None:
            valid = torch.ones_like(loss, dtype=torch.bool)
        mean, count = masked_mean(loss, valid, per_sample, return_count=True)
        return with_avg_factor(self.loss_weight * mean, count,
                               return_avg_factor)
