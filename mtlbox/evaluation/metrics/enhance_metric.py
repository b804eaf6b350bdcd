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


def _to_uint8_levels(rgb: np.ndarray) -> np.ndarray:
    """[0, 1] floats -> the 0-255 levels of the saved 8-bit image (the
    published codes read PNG/JPEG files), as float64."""
    return np.round(np.clip(np.asarray(rgb, np.float64), 0, 1) * 255.0)


def uciqe_matlab(rgb: np.ndarray) -> float:
    """UCIQE as the MATLAB ``UCIQE.m`` circulated with the UIEB-era
    enhancement codes (e.g. github.com/bilityniu/underwater_image_fusion),
    reported as the ``uciqe_matlab`` key. RGB [H, W, 3] in [0, 1], taken as
    its 8-bit image. Its conventions, kept here:

    - 8-bit Lab (``L* 255/100``, ``a* + 128``, ``b* + 128``), all divided
      by 255: ``l = L8/255 + eps``, chroma ``c = sqrt(a8^2 + b8^2)/255`` of
      the *offset* a, b (a grey pixel has ``c = 0.71``);
    - ``sigma_c = sqrt(mean |1 - (mean(c) / c)^2|)`` (not the std of c);
    - ``con_l`` = MATLAB ``stretchlim`` of l: the first of the 256 levels
      whose cumulative share exceeds 1 % and the first reaching 99 %,
      difference / 255; a flat image (both the same level) gives 1;
    - ``mu_s = mean c / sqrt(c^2 + l^2)``;
    - ``0.4680 sigma_c + 0.2745 con_l + 0.2576 mu_s``.

    Difference: the Lab conversion is OpenCV's 8-bit one (D65); MATLAB's
    ``makecform('srgb2lab')`` may round or adapt the white point
    differently, so values can differ in the last digits.
    """
    levels = _to_uint8_levels(rgb).astype(np.uint8)
    lab = cv2.cvtColor(np.ascontiguousarray(levels), cv2.COLOR_RGB2Lab)
    lab = lab.astype(np.float64)
    lum = lab[..., 0].ravel() / 255.0 + np.finfo(np.float64).eps
    chroma = np.sqrt(lab[..., 1]**2 + lab[..., 2]**2).ravel() / 255.0
    mu_s = float(np.mean(chroma / np.sqrt(chroma**2 + lum**2)))
    sigma_c = float(np.sqrt(np.mean(np.abs(1 - (chroma.mean() / chroma)**2))))
    counts = np.bincount(lab[..., 0].astype(np.int64).ravel(), minlength=256)
    cdf = np.cumsum(counts) / counts.sum()
    low = int(np.argmax(cdf > 0.01))
    high = int(np.argmax(cdf >= 0.99))
    con_l = 1.0 if low == high else (high - low) / 255.0
    return 0.4680 * sigma_c + 0.2745 * con_l + 0.2576 * mu_s


def _funiegan_blocks(img: np.ndarray, size: int):
    """Max and min of each whole ``size x size`` block (the image cropped
    to a multiple of size; a trailing channel axis is reduced too)."""
    h, w = img.shape[0] // size, img.shape[1] // size
    b = img[:h * size, :w * size].reshape(h, size, w, size, -1)
    return b.max(axis=(1, 3, 4)), b.min(axis=(1, 3, 4))


def uiqm_funiegan(rgb: np.ndarray) -> float:
    """UIQM as FUnIE-GAN's ``Evaluation/uqim_utils.py`` (Islam et al.,
    widely reused), reported as the ``uiqm_funiegan`` key. RGB [H, W, 3] in
    [0, 1], taken as its 8-bit image on the 0-255 scale. Its conventions,
    kept here (they differ from :func:`uiqm`):

    - UICM: the alpha-trimmed mean sums the sorted values from index
      ``ceil(0.1 K) + 1`` (one more skipped than trimmed) to ``K -
      floor(0.1 K)`` and divides by ``K - ceil(0.1 K) - floor(0.1 K)``;
    - UISM: per channel the 3x3 Sobel magnitude (edges mirrored,
      ``abcd|dcba``) is rescaled to a maximum of 255, multiplied by the
      channel (0-255), and EME is taken on 10 x 10 blocks,
      ``2 / (k1 k2) sum log(max / min)`` with 0 for a block whose min or
      max is 0; weights (0.299, 0.587, **0.144**) (sic: 0.114 in the
      paper);
    - UIConM: 10 x 10 blocks, ``r = (max - min) / (max + min)`` over the
      block's three channels together (not the intensity),
      ``-mean_blocks r log r``, 0 for ``r = 0``;
    - ``0.0282 UICM + 0.2953 UISM + 3.5753 UIConM``.

    Not done here: the FUnIE-GAN script first resizes every image to
    256 x 256 (PIL); a channel without any edge (Sobel maximum 0) gives
    NaN there and contributes 0 here; computed in float64 (the reference
    casts to float32: differences of about 1e-6 relative).
    """
    img = _to_uint8_levels(rgb)
    r, g, b = img[..., 0], img[..., 1], img[..., 2]

    def trimmed_mean(x):
        x = np.sort(x.ravel())
        k = len(x)
        lo, hi = int(np.ceil(0.1 * k)), int(np.floor(0.1 * k))
        return float(x[lo + 1:k - hi].sum() / (k - lo - hi))

    rg, yb = r - g, (r + g) / 2 - b
    mu_rg, mu_yb = trimmed_mean(rg), trimmed_mean(yb)
    uicm = (-0.0268 * np.hypot(mu_rg, mu_yb) + 0.1586 * np.sqrt(
        np.mean((rg - mu_rg)**2) + np.mean((yb - mu_yb)**2)))
    uism = 0.0
    for lam, ch in zip((0.299, 0.587, 0.144), (r, g, b)):
        dx = cv2.Sobel(ch, cv2.CV_64F, 0, 1, ksize=3,
                       borderType=cv2.BORDER_REFLECT)
        dy = cv2.Sobel(ch, cv2.CV_64F, 1, 0, ksize=3,
                       borderType=cv2.BORDER_REFLECT)
        mag = np.hypot(dx, dy)
        peak = mag.max()
        mag = mag * (255.0 / peak) if peak > 0 else mag
        bmax, bmin = _funiegan_blocks(mag * ch, 10)
        ok = (bmin != 0) & (bmax != 0)
        logs = np.log(np.where(ok, bmax, 1.0) / np.where(ok, bmin, 1.0))
        uism += lam * float(2.0 * logs.mean())
    bmax, bmin = _funiegan_blocks(img, 10)
    top, bot = bmax - bmin, bmax + bmin
    ok = (top != 0) & (bot != 0)
    ratio = np.where(ok, top, 1.0) / np.where(ok, bot, 1.0)
    uiconm = float(-np.mean(np.where(ok, ratio * np.log(ratio), 0.0)))
    return float(0.0282 * uicm + 0.2953 * uism + 3.5753 * uiconm)


#: variant name -> (result key, function) for the no-reference measures
UCIQE_VARIANTS = {'mtlbox': ('uciqe', uciqe),
                  'matlab': ('uciqe_matlab', uciqe_matlab)}
UIQM_VARIANTS = {'mtlbox': ('uiqm', uiqm),
                 'funiegan': ('uiqm_funiegan', uiqm_funiegan)}


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

    ``uciqe_variants`` / ``uiqm_variants`` choose which definitions are
    reported, each under its own key so numbers of different codes never
    mix: ``'mtlbox'`` (keys ``uciqe``, ``uiqm``: :func:`uciqe`,
    :func:`uiqm`), ``'matlab'`` (``uciqe_matlab``: :func:`uciqe_matlab`,
    the circulated ``UCIQE.m``) and ``'funiegan'`` (``uiqm_funiegan``:
    :func:`uiqm_funiegan`, FUnIE-GAN's ``uqim_utils.py``).
    """

    def __init__(self, no_reference: bool = True, task: str = 'enhance',
                 prefix: Optional[str] = None, collect_device='cpu',
                 uciqe_variants: Sequence[str] = ('mtlbox',),
                 uiqm_variants: Sequence[str] = ('mtlbox',)):
        super().__init__(collect_device=collect_device, prefix=prefix or task)
        self.no_reference = no_reference
        self.task = task
        self.measures = []
        for arg, table, names in (('uciqe_variants', UCIQE_VARIANTS,
                                   uciqe_variants),
                                  ('uiqm_variants', UIQM_VARIANTS,
                                   uiqm_variants)):
            for name in names:
                if name not in table:
                    raise ValueError(
                        f'EnhanceMetric: {arg} has {name!r}; expected some '
                        f'of {sorted(table)}')
                self.measures.append(table[name])

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
                row += [fn(rgb) for _, fn in self.measures]
            self.results.append(row)

    def compute_metrics(self, results: list) -> dict:
        if not results:
            return {}
        mean = np.mean(np.asarray(results, np.float64), axis=0)
        keys = ['psnr', 'ssim'] + ([key for key, _ in self.measures]
                                   if self.no_reference else [])
        return {k: float(v) for k, v in zip(keys, mean)}
