"""Underwater image enhancement metrics: PSNR, SSIM, UCIQE, UIQM."""
from typing import Optional, Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric

from mtlbox.models.losses.ssim_loss import ssim_map
from mtlbox.registry import METRICS
from .utils import field_data, is_labeled


def psnr(pred: torch.Tensor, gt: torch.Tensor, data_range: float = 1.0,
         max_db: float = 100.0) -> float:
    """``10 log10(L^2 / MSE)`` over all pixels and channels, capped at
    ``max_db`` (identical images)."""
    mse = float(((pred.double() - gt.double())**2).mean())
    if mse <= 0:
        return max_db
    return min(10 * np.log10(data_range**2 / mse), max_db)


def ssim(pred: torch.Tensor, gt: torch.Tensor,
         data_range: float = 1.0) -> float:
    """Mean SSIM of [C, H, W] images: Gaussian window 11, sigma 1.5,
    K = (0.01, 0.03), windows fully inside the image (Wang et al. 2004,
    their MATLAB code), averaged over channels (RGB). Computed in float64:
    the local variances ``E[x^2] - E[x]^2`` lose ~1e-4 of SSIM to
    cancellation in float32."""
    return float(ssim_map(pred[None].double(), gt[None].double(),
                          data_range).mean())


def uciqe(rgb: np.ndarray) -> float:
    """UCIQE (Yang & Sowmya, IEEE TIP 2015) of an RGB image [H, W, 3] in
    [0, 1]: ``0.4680 sigma_c + 0.2745 con_l + 0.2576 mu_s`` in CIELab
    (OpenCV, D65) with ``l = L*/100`` and chroma ``c = sqrt(a*^2 + b*^2)
    / 100``: ``sigma_c`` = std of ``c``, ``con_l`` = 99th minus 1st
    percentile of ``l``, ``mu_s`` = mean of ``c / l`` (0 where ``l = 0``).

    Public implementations normalise L*, chroma and saturation
    differently, so absolute values differ between codes; compare numbers
    from this function only.
    """
    lab = cv2.cvtColor(np.ascontiguousarray(rgb, np.float32),
                       cv2.COLOR_RGB2Lab)
    lum = lab[..., 0] / 100.0
    chroma = np.sqrt(lab[..., 1]**2 + lab[..., 2]**2) / 100.0
    sigma_c = float(chroma.std())
    con_l = float(np.percentile(lum, 99) - np.percentile(lum, 1))
    sat = np.where(lum > 0, chroma / np.maximum(lum, 1e-12), 0.0)
    return 0.4680 * sigma_c + 0.2745 * con_l + 0.2576 * float(sat.mean())


def _trimmed_stats(x: np.ndarray, alpha: float = 0.1):
    """Alpha-trimmed mean (``alpha`` of the values cut at each end) and the
    mean squared deviation of all values from it."""
    x = np.sort(x.ravel())
    k = len(x)
    lo, hi = int(np.ceil(alpha * k)), int(np.floor(alpha * k))
    mu = float(x[lo:k - hi].mean())
    return mu, float(((x - mu)**2).mean())


def _blocks(img: np.ndarray, size: int):
    h, w = img.shape
    h, w = h - h % size, w - w % size
    b = img[:h, :w].reshape(h // size, size, w // size, size)
    return b.max(axis=(1, 3)), b.min(axis=(1, 3))


def _eme(img: np.ndarray, size: int = 8, eps: float = 1e-6) -> float:
    """``2 / (k1 k2) sum_blocks log(I_max / I_min)`` (EME) on
    ``size x size`` blocks."""
    bmax, bmin = _blocks(img, size)
    return float(2 * np.mean(np.log((bmax + eps) / (bmin + eps))))


def uiqm(rgb: np.ndarray, block: int = 8) -> float:
    """UIQM (Panetta, Gao & Agaian, IEEE JOE 2016) of an RGB image
    [H, W, 3] in [0, 1], on the 0-255 scale::

        UIQM = 0.0282 UICM + 0.2953 UISM + 3.5753 UIConM

    - UICM = ``-0.0268 sqrt(mu_RG^2 + mu_YB^2) + 0.1586 sqrt(s_RG^2 +
      s_YB^2)``, ``RG = R - G``, ``YB = (R + G) / 2 - B``, ``mu``
      alpha-trimmed means (0.1 each end), ``s^2`` mean squared deviations
      from them;
    - UISM = ``sum_c lambda_c EME(|Sobel(c)| * c / 255)`` with lambda =
      (0.299, 0.587, 0.114) and EME on ``block x block`` blocks;
    - UIConM = ``mean_blocks |r log r|`` with ``r = (I_max - I_min) /
      (I_max + I_min)`` of the intensity ``(R + G + B) / 3`` per block
      (the logAMEE of the paper in ordinary arithmetic instead of PLIP
      operations -- a documented simplification).
    """
    img = np.asarray(rgb, np.float64) * 255.0
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    mu_rg, s_rg = _trimmed_stats(r - g)
    mu_yb, s_yb = _trimmed_stats((r + g) / 2 - b)
    uicm = -0.0268 * np.sqrt(mu_rg**2 + mu_yb**2) + 0.1586 * np.sqrt(
        s_rg + s_yb)
    uism = 0.0
    for lam, ch in zip((0.299, 0.587, 0.114), (r, g, b)):
        gx = cv2.Sobel(ch, cv2.CV_64F, 1, 0, ksize=3)
        gy = cv2.Sobel(ch, cv2.CV_64F, 0, 1, ksize=3)
        edge = np.sqrt(gx**2 + gy**2) * ch / 255.0
        uism += lam * _eme(edge, block)
    bmax, bmin = _blocks(img.mean(-1), block)
    ratio = (bmax - bmin) / np.maximum(bmax + bmin, 1e-6)
    uiconm = float(np.mean(np.abs(np.where(
        ratio > 0, ratio * np.log(np.maximum(ratio, 1e-12)), 0.0))))
    return float(0.0282 * uicm + 0.2953 * uism + 3.5753 * uiconm)


@METRICS.register_module()
class EnhanceMetric(BaseMetric):
    """Image enhancement quality of ``pred_clean_img`` ([3, H, W] RGB in
    [0, 1]) against ``gt_clean_img`` (made RGB [0, 1] by the
    preprocessor), averaged over images.

    Keys (prefix default the task name): ``psnr`` (dB, :func:`psnr`),
    ``ssim`` (:func:`ssim`), and with ``no_reference=True`` ``uciqe`` and
    ``uiqm`` of the prediction (:func:`uciqe`, :func:`uiqm`; slower).
    A prediction of a different size than the target is resized
    (bilinear) to it first.
    """

    def __init__(self, no_reference: bool = True, task: str = 'enhance',
                 prefix: Optional[str] = None, collect_device='cpu'):
        super().__init__(collect_device=collect_device, prefix=prefix or task)
        self.no_reference = no_reference
        self.task = task

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if not is_labeled(sample, self.task, 'gt_clean_img'):
                continue
            pred = field_data(sample, 'pred_clean_img').float()
            gt = field_data(sample, 'gt_clean_img').float()
            if gt.max() > 1.5:  # still uint8: not through the preprocessor
                gt = gt / 255.0
            if pred.shape != gt.shape:
                pred = F.interpolate(pred[None], size=gt.shape[-2:],
                                     mode='bilinear', align_corners=False)[0]
            pred = pred.clamp(0, 1)
            row = [psnr(pred, gt), ssim(pred, gt)]
            if self.no_reference:
                rgb = pred.permute(1, 2, 0).numpy()
                row += [uciqe(rgb), uiqm(rgb)]
            self.results.append(row)

    def compute_metrics(self, results: list) -> dict:
        if not results:
            return {}
        mean = np.mean(np.asarray(results, np.float64), axis=0)
        keys = ['psnr', 'ssim'] + (['uciqe', 'uiqm']
                                   if self.no_reference else [])
        return {k: float(v) for k, v in zip(keys, mean)}
