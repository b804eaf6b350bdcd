"""Enhancement, classification, saliency, edge, parts and extended depth /
normal metrics against hand computations."""
import math

import numpy as np
import pytest
import torch

from mtlbox.evaluation import (ClsMetric, DepthMetric, EdgeMetric,
                               EnhanceMetric, NormalMetric, PartsMetric,
                               SaliencyMetric)
from mtlbox.evaluation.metrics.enhance_metric import psnr, ssim, uciqe, uiqm


def run(metric, samples):
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def test_psnr_of_a_known_error():
    gt = torch.full((3, 16, 16), 0.5)
    pred = gt + 0.1  # MSE 0.01 -> 20 dB
    assert psnr(pred, gt) == pytest.approx(20.0)
    pred = gt.clone()
    pred[:, :8] += 0.2  # half the pixels off by 0.2: MSE 0.02
    assert psnr(pred, gt) == pytest.approx(10 * math.log10(1 / 0.02))
    assert psnr(gt, gt) == 100.0


def test_ssim_identity_and_constant_shift():
    g = torch.Generator().manual_seed(0)
    img = torch.rand(3, 24, 24, generator=g)
    assert ssim(img, img) == pytest.approx(1.0)
    # two constant images a, b: SSIM = (2ab + C1) / (a^2 + b^2 + C1)
    a, b, c1 = 0.2, 0.6, 0.01**2
    got = ssim(torch.full((1, 16, 16), a), torch.full((1, 16, 16), b))
    assert got == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1))


def test_no_reference_measures():
    grey = np.full((32, 32, 3), 0.5, np.float32)
    # no chroma, no luminance contrast: only mu_s = 0 -> UCIQE 0
    assert uciqe(grey) == pytest.approx(0.0, abs=1e-4)
    # grey: UICM 0, all blocks flat -> EME 0, UIConM 0
    assert uiqm(grey) == pytest.approx(0.0, abs=1e-6)
    g = np.random.default_rng(0)
    colourful = g.random((32, 32, 3)).astype(np.float32)
    assert uciqe(colourful) > 0.1 and uiqm(colourful) > uiqm(grey)


def test_enhance_metric_over_labelled_samples():
    gt = torch.full((3, 16, 16), 0.5)
    s = dict(gt_clean_img=dict(data=gt), pred_clean_img=dict(data=gt + 0.1),
             labeled_tasks=['enhance'])
    other = dict(s, labeled_tasks=['det'])
    out = run(EnhanceMetric(no_reference=False), [s, other])
    assert out == pytest.approx(dict(psnr=20.0, ssim=out['ssim']))
    assert set(run(EnhanceMetric(), [s])) == {'psnr', 'ssim', 'uciqe',
                                              'uiqm'}


def label(value, score=None):
    d = dict(label=torch.tensor(value).reshape(-1))
    if score is not None:
        d['score'] = torch.tensor(score)
    return d


def test_cls_metric_by_hand():
    pairs = [(0, 0), (1, 1), (1, 0), (2, 2), (2, 2), (0, 2)]  # (pred, gt)
    samples = [dict(gt_label=label(g), pred_label=label(p),
                    labeled_tasks=['cls']) for p, g in pairs]
    out = run(ClsMetric(num_classes=3), samples)
    assert out['top1'] == pytest.approx(4 / 6)
    # class 0: 1 of 2, class 1: 1 of 1, class 2: 2 of 3
    assert out['mean_class_acc'] == pytest.approx((0.5 + 1 + 2 / 3) / 3)
    # multi-label: class 0 ranks [pos, neg, pos] -> AP (1 + 2/3) / 2;
    # class 1 ranks its positive first -> 1
    ml = [dict(gt_label=label([0]), pred_label=label([0], [0.9, 0.1]),
               labeled_tasks=['cls']),
          dict(gt_label=label([1]), pred_label=label([1], [0.8, 0.7]),
               labeled_tasks=['cls']),
          dict(gt_label=label([0]), pred_label=label([0], [0.3, 0.2]),
               labeled_tasks=['cls'])]
    out = run(ClsMetric(multi_label=True), ml)
    assert out['mAP_multilabel'] == pytest.approx(((1 + 2 / 3) / 2 + 1) / 2)


def test_saliency_metric_by_hand():
    gt = torch.tensor([[[1, 1, 0, 0, 255]]])
    prob = torch.tensor([[[0.9, 0.4, 0.6, 0.1, 0.9]]])
    out = run(SaliencyMetric(), [dict(gt_saliency=dict(data=gt),
                                      pred_saliency=dict(data=prob),
                                      labeled_tasks=['saliency'])])
    # thresholds: > 0.6 -> P 1, R 1/2: F = 1.3 * 0.5 / (0.3 + 0.5) = 0.8125
    # > 0.4 -> P 2/3, R 1 -> F = 1.3 (2/3) / (0.2 + 1) = 0.72222
    # > 0.1 -> P 2/3 (0.6 counted) too; all -> P 0.5
    assert out['maxF'] == pytest.approx(1.3 * 0.5 / 0.8)
    # IoU: {0.9}: 1/2; {0.9, 0.6}: 1/3; {0.9, 0.6, 0.4}: 2/3
    assert out['maxIoU'] == pytest.approx(2 / 3)
    assert out['MAE'] == pytest.approx((0.1 + 0.6 + 0.6 + 0.1) / 4)


def test_edge_metric_with_tolerance():
    gt = torch.zeros(1, 8, 8, dtype=torch.long)
    gt[0, :, 3] = 1  # vertical edge at x = 3 (8 pixels)
    prob = torch.zeros(1, 8, 8)
    prob[0, :, 4] = 0.8  # one pixel off: within tolerance 1
    prob[0, 0, 7] = 0.9  # a false edge 4 pixels away
    sample = dict(gt_edge=dict(data=gt), pred_edge=dict(data=prob),
                  labeled_tasks=['edge'])
    out = run(EdgeMetric(tolerance=1, num_thresholds=9), [sample])
    # t <= 0.8: P = 8/9, R = 1 -> F = 16/17; t in (0.8, 0.9]: P 0, R 0
    assert out['ODS'] == pytest.approx(2 * (8 / 9) / (8 / 9 + 1))
    assert out['OIS'] == pytest.approx(out['ODS'])
    strict = run(EdgeMetric(tolerance=0, num_thresholds=9), [sample])
    assert strict['ODS'] == 0.0


def test_parts_metric_uses_parts_fields():
    gt = torch.tensor([[[0, 1, 1, 255]]])
    pred = torch.tensor([[[0, 1, 0, 1]]])
    out = run(PartsMetric(num_classes=2),
              [dict(gt_parts=dict(data=gt), pred_parts=dict(data=pred),
                    labeled_tasks=['parts'])])
    # class 0: tp 1, union 2 -> 1/2; class 1: tp 1, union 2 -> 1/2
    assert out['mIoU'] == pytest.approx(0.5)


def test_depth_extended_metrics_by_hand():
    gt = torch.tensor([[[1.0, 2.0, 0.0]]])  # last pixel invalid
    pred = torch.tensor([[[2.0, 2.0, 5.0]]])
    out = run(DepthMetric(), [dict(gt_depth=dict(data=gt),
                                   pred_depth=dict(data=pred),
                                   labeled_tasks=['depth'])])
    assert out['sq_rel'] == pytest.approx((1 / 1 + 0) / 2)
    assert out['log10'] == pytest.approx(math.log10(2) / 2)
    # d = (log 2, 0): silog = 100 sqrt(mean d^2 - mean(d)^2) = 100 log2 / 2
    assert out['silog'] == pytest.approx(100 * math.log(2) / 2)
    assert out['abs_rel'] == pytest.approx(0.5)


def test_normal_rmse_by_hand():
    gt = torch.tensor([[[0.0, 0.0]], [[0.0, 0.0]], [[1.0, 1.0]]])
    s60 = math.sin(math.radians(60))
    pred = torch.tensor([[[0.0, s60]], [[0.0, 0.0]], [[1.0, 0.5]]])
    out = run(NormalMetric(), [dict(gt_normal=dict(data=gt),
                                    pred_normal=dict(data=pred),
                                    labeled_tasks=['normal'])])
    assert out['mean'] == pytest.approx(30.0, abs=1e-4)
    assert out['rmse'] == pytest.approx(math.sqrt(60**2 / 2), abs=1e-4)


def test_ssim_map_matches_a_direct_window_computation():
    from mtlbox.models.losses.ssim_loss import ssim_map
    rng = np.random.default_rng(3)
    x = rng.random((14, 13))
    y = np.clip(x + rng.normal(0, 0.1, x.shape), 0, 1)
    ax = np.arange(11) - 5
    w = np.exp(-(ax[:, None]**2 + ax[None]**2) / (2 * 1.5**2))
    w /= w.sum()
    got = ssim_map(torch.tensor(x)[None, None], torch.tensor(y)[None, None])
    assert got.shape == (1, 1, 4, 3)
    for i, j in ((0, 0), (3, 2), (1, 1)):
        px, py = x[i:i + 11, j:j + 11], y[i:i + 11, j:j + 11]
        mx, my = (w * px).sum(), (w * py).sum()
        vx = (w * (px - mx)**2).sum()
        vy = (w * (py - my)**2).sum()
        cxy = (w * (px - mx) * (py - my)).sum()
        c1, c2 = 0.01**2, 0.03**2
        ref = ((2 * mx * my + c1) * (2 * cxy + c2) /
               ((mx**2 + my**2 + c1) * (vx + vy + c2)))
        assert got[0, 0, i, j].item() == pytest.approx(ref, abs=1e-10)


def test_parts_prediction_outside_classes_is_a_miss():
    # as SegMetric: gt (0, 0, 1, 1), pred (0, 0, 1, 255), 2 classes ->
    # IoU 1 and 1/2, mIoU 0.75 (the 255 is wrong for class 1, no class's hit)
    gt = torch.tensor([[[0, 0, 1, 1]]])
    pred = torch.tensor([[[0, 0, 1, 255]]])
    out = run(PartsMetric(num_classes=2),
              [dict(gt_parts=dict(data=gt), pred_parts=dict(data=pred),
                    labeled_tasks=['parts'])])
    assert out['mIoU'] == pytest.approx(0.75)


def test_uiqm_funiegan_conventions_by_hand():
    # flat colour (200, 100, 50), 20 x 20: RG = YB = 100 everywhere. The
    # trimmed mean skips one value more than it trims (K = 400, 40 cut each
    # end): 100 * 319 / 320; UISM 0 (no edge); UIConM over the block's three
    # channels: r = (200 - 50) / (200 + 50) = 0.6 -> -0.6 log 0.6
    from mtlbox.evaluation.metrics.enhance_metric import uiqm_funiegan
    img = np.empty((20, 20, 3))
    img[...] = np.array([200, 100, 50]) / 255
    mu = 100 * 319 / 320
    uicm = -0.0268 * math.sqrt(2) * mu + 0.1586 * math.sqrt(
        2 * (100 - mu)**2)
    uiconm = -0.6 * math.log(0.6)
    assert uiqm_funiegan(img) == pytest.approx(0.0282 * uicm +
                                               3.5753 * uiconm, rel=1e-12)


def _uiqm_funiegan_by_loops(img):
    """FUnIE-GAN's UIQM written out step by step (scipy's Sobel, explicit
    block loops) for an image of 0-255 levels."""
    ndimage = pytest.importorskip('scipy.ndimage')
    r, g, b = (img[..., c] for c in range(3))

    def tmean(x):
        x = sorted(x.ravel().tolist())
        k = len(x)
        lo, hi = math.ceil(0.1 * k), math.floor(0.1 * k)
        return sum(x[lo + 1:k - hi]) / (k - lo - hi)

    def var(x, mu):
        return sum((v - mu)**2 for v in x.ravel().tolist()) / x.size

    rg, yb = r - g, (r + g) / 2 - b
    m1, m2 = tmean(rg), tmean(yb)
    uicm = -0.0268 * math.sqrt(m1**2 + m2**2) + 0.1586 * math.sqrt(
        var(rg, m1) + var(yb, m2))
    n1, n2 = img.shape[1] // 10, img.shape[0] // 10

    def eme(x):
        total = 0.0
        for i in range(n2):
            for j in range(n1):
                blk = x[i * 10:(i + 1) * 10, j * 10:(j + 1) * 10]
                if blk.min() != 0 and blk.max() != 0:
                    total += math.log(blk.max() / blk.min())
        return 2 / (n1 * n2) * total

    uism = 0.0
    for lam, ch in zip((0.299, 0.587, 0.144), (r, g, b)):
        mag = np.hypot(ndimage.sobel(ch, 0), ndimage.sobel(ch, 1))
        mag = mag * 255 / mag.max()
        uism += lam * eme(mag * ch)
    total = 0.0
    for i in range(n2):
        for j in range(n1):
            blk = img[i * 10:(i + 1) * 10, j * 10:(j + 1) * 10, :]
            top, bot = blk.max() - blk.min(), blk.max() + blk.min()
            if top != 0 and bot != 0:
                total += (top / bot) * math.log(top / bot)
    uiconm = -total / (n1 * n2)
    return 0.0282 * uicm + 0.2953 * uism + 3.5753 * uiconm


def test_uiqm_funiegan_against_step_by_step_version():
    from mtlbox.evaluation.metrics.enhance_metric import uiqm_funiegan
    rng = np.random.default_rng(3)
    levels = rng.integers(0, 256, (37, 43, 3)).astype(np.float64)
    levels[:12, :15] = 0  # a black corner: blocks with min 0 count 0
    assert uiqm_funiegan(levels / 255) == pytest.approx(
        _uiqm_funiegan_by_loops(levels), rel=1e-9)


def test_uciqe_matlab_conventions_by_hand():
    import cv2
    from mtlbox.evaluation.metrics.enhance_metric import uciqe_matlab
    # half black, half white: 8-bit Lab (0, 128, 128) / (255, 128, 128);
    # chroma of the offset a, b: c = sqrt(2) 128 / 255 for both -> sigma_c 0;
    # stretchlim levels 0 and 255 -> con_l 1; saturation 1 (l = eps) and
    # c / sqrt(c^2 + 1)
    img = np.zeros((10, 10, 3))
    img[5:] = 1.0
    c = math.sqrt(2) * 128 / 255
    mu_s = (1 + c / math.sqrt(c * c + 1)) / 2
    # (abs 1e-7: sigma_c = sqrt(|1 - (mean c / c)^2|) turns the rounding of
    # a mean of equal values, 1e-16, into 1e-8)
    assert uciqe_matlab(img) == pytest.approx(0.2745 + 0.2576 * mu_s,
                                              abs=1e-7)
    # flat grey: stretchlim of a flat image is [0, 1] -> con_l = 1
    grey = np.full((8, 8, 3), 128 / 255)
    l8 = float(cv2.cvtColor(np.full((1, 1, 3), 128, np.uint8),
                            cv2.COLOR_RGB2Lab)[0, 0, 0])
    lum = l8 / 255
    assert uciqe_matlab(grey) == pytest.approx(
        0.2745 + 0.2576 * c / math.sqrt(c * c + lum * lum), abs=1e-7)


def test_enhance_metric_variant_keys():
    gt = torch.rand(3, 24, 24, generator=torch.Generator().manual_seed(0))
    s = dict(gt_clean_img=dict(data=gt), pred_clean_img=dict(data=gt),
             labeled_tasks=['enhance'])
    m = EnhanceMetric(uciqe_variants=('mtlbox', 'matlab'),
                      uiqm_variants=('funiegan',))
    out = run(m, [s])
    assert set(out) == {'psnr', 'ssim', 'uciqe', 'uciqe_matlab',
                        'uiqm_funiegan'}
    rgb = gt.permute(1, 2, 0).numpy()
    assert out['uciqe'] == pytest.approx(uciqe(rgb))
    with pytest.raises(ValueError, match='uiqm_variants'):
        EnhanceMetric(uiqm_variants=('libmtl',))
