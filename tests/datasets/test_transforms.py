import numpy as np
import pytest

from mtlbox.datasets.transforms import (LoadMTLAnnotations, MTLPad,
                                        MTLPhotometricDistortion,
                                        MTLRandomCrop, MTLRandomFlip,
                                        MTLResize, PackMTLInputs)
from mtlbox.datasets.transforms.geometric import resize_depth


def _sample(h=8, w=12):
    img = np.arange(h * w * 3, dtype=np.uint8).reshape(h, w, 3)
    seg = np.zeros((h, w), np.uint8)
    seg[2:6, 1:5] = 5  # object pixels, box (1, 2, 5, 6)
    depth = np.full((h, w), 2.0, np.float32)
    depth[0, 0] = 0
    normal = np.zeros((h, w, 3), np.float32)
    normal[..., 0] = 0.6
    normal[..., 2] = -0.8
    normal[7, 11] = 0
    return dict(img=img, gt_seg_map=seg, gt_depth=depth, gt_normal=normal,
                gt_clean_img=img.copy(),
                gt_bboxes=np.array([[1, 2, 5, 6]], np.float32),
                gt_bboxes_labels=np.array([4]),
                gt_ignore_flags=np.array([False]),
                labeled_tasks=['det', 'seg', 'depth', 'normal', 'enhance'],
                img_shape=(h, w), ori_shape=(h, w))


def _box_of_mask(mask):
    ys, xs = np.nonzero(mask)
    return [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]


def test_flip_by_hand_and_back():
    r = _sample()
    r = MTLRandomFlip(prob=1.0)(r)
    # W = 12: x1' = 12 - 5 = 7, x2' = 12 - 1 = 11
    assert r['gt_bboxes'].tolist() == [[7, 2, 11, 6]]
    assert _box_of_mask(r['gt_seg_map'] == 5) == [7, 2, 11, 6]
    np.testing.assert_allclose(r['gt_normal'][0, 0], [-0.6, 0, -0.8])
    assert r['gt_depth'][0, 11] == 0 and r['gt_normal'][7, 0].sum() == 0
    r2 = dict(img=np.zeros((4, 10, 3), np.uint8),
              gt_bboxes=np.array([[1, 0, 4, 2]], np.float32))
    r2 = MTLRandomFlip(prob=1.0)(r2)
    assert r2['gt_bboxes'].tolist() == [[6, 0, 9, 2]]
    back = MTLRandomFlip(prob=1.0)(MTLRandomFlip(prob=1.0)(_sample()))
    ref = _sample()
    for key in ('img', 'gt_seg_map', 'gt_depth', 'gt_normal', 'gt_bboxes'):
        np.testing.assert_array_equal(back[key], ref[key])


def test_resize_by_hand():
    r = MTLResize(scale=(24, 4))(_sample())  # w x2, h x0.5
    assert r['img'].shape == (4, 24, 3) and r['img_shape'] == (4, 24)
    assert r['scale_factor'] == (2.0, 0.5)
    assert r['gt_bboxes'].tolist() == [[2, 1, 10, 3]]
    assert r['gt_seg_map'].shape == (4, 24)
    assert r['gt_seg_map'].dtype == np.uint8
    assert set(np.unique(r['gt_seg_map'])) <= {0, 5}  # nearest: no blends
    assert _box_of_mask(r['gt_seg_map'] == 5) == [2, 1, 10, 3]
    assert r['gt_clean_img'].shape == (4, 24, 3)
    n = np.linalg.norm(r['gt_normal'], axis=-1)
    assert np.allclose(n[n > 0], 1, atol=1e-5)
    np.testing.assert_allclose(r['gt_normal'][1, 5], [0.6, 0, -0.8],
                               atol=1e-5)
    assert set(np.unique(r['gt_depth'])) <= {0.0, 2.0}


def test_resize_keep_ratio_and_scale_factor_accumulates():
    r = MTLResize(scale=(100, 16), keep_ratio=True)(_sample())
    # short side 8 -> 16 limits: factor 2 (long 12 -> 24 <= 100)
    assert r['img_shape'] == (16, 24)
    r = MTLResize(scale=(12, 8))(r)
    assert r['scale_factor'] == pytest.approx((1.0, 1.0))


def test_depth_bilinear_ignores_invalid():
    depth = np.array([[1.0, 0.0], [3.0, 5.0]], np.float32)
    up = resize_depth(depth, (4, 4), 'bilinear')
    near = resize_depth(depth, (4, 4), 'nearest')
    np.testing.assert_array_equal(near[::2, ::2], depth)
    # values are weighted means of valid neighbours only: within [1, 5]
    valid = up[up > 0]
    assert valid.min() >= 1 - 1e-6 and valid.max() <= 5 + 1e-6
    assert up[0, 0] == pytest.approx(1.0)
    assert up[0, 3] == 0  # the invalid corner stays invalid


def test_random_crop_clips_boxes_and_drops_empty():
    r = _sample()
    r['gt_bboxes'] = np.array([[1, 2, 5, 6], [0, 0, 2, 1]], np.float32)
    r['gt_bboxes_labels'] = np.array([4, 7])
    r['gt_ignore_flags'] = np.array([False, True])
    crop = MTLRandomCrop(crop_size=(4, 6))
    boxes, keep = crop.crop_boxes(r['gt_bboxes'], 2, 2, 4, 6)
    assert keep.tolist() == [True, False]
    assert boxes[0].tolist() == [0, 0, 3, 4]
    for seed in range(20):
        out = MTLRandomCrop(crop_size=(4, 6), seed=seed)(
            {k: (v.copy() if hasattr(v, 'copy') else v)
             for k, v in r.items()})
        assert out['img'].shape == (4, 6, 3)
        assert len(out['gt_bboxes']) == len(out['gt_bboxes_labels']) == len(
            out['gt_ignore_flags']) >= 1
        # boxes still enclose their mask pixels
        mask = out['gt_seg_map'] == 5
        if 4 in out['gt_bboxes_labels'] and mask.any():
            box = out['gt_bboxes'][list(out['gt_bboxes_labels']).index(4)]
            assert _box_of_mask(mask) == box.tolist()
        assert out['gt_depth'].shape == out['gt_normal'].shape[:2] == (4, 6)


def test_pad_values():
    r = MTLPad(size_divisor=5)(_sample())
    assert r['img'].shape == (10, 15, 3) and r['pad_shape'] == (10, 15)
    assert r['img_shape'] == (8, 12)
    assert (r['gt_seg_map'][8:] == 255).all()
    assert (r['gt_depth'][:, 12:] == 0).all()
    assert (r['gt_normal'][8:] == 0).all()
    assert r['gt_bboxes'].tolist() == [[1, 2, 5, 6]]


def test_photometric_changes_image_only():
    r = _sample()
    clean = r['gt_clean_img'].copy()
    out = MTLPhotometricDistortion(prob=1.0, seed=0)(r)
    assert not np.array_equal(out['img'], clean)
    np.testing.assert_array_equal(out['gt_clean_img'], clean)
    ref = _sample()
    for key in ('gt_seg_map', 'gt_depth', 'gt_normal', 'gt_bboxes'):
        np.testing.assert_array_equal(out[key], ref[key])


def test_pipeline_then_pack_keeps_alignment():
    r = MTLResize(scale=(24, 16))(MTLRandomFlip(prob=1.0)(_sample()))
    packed = PackMTLInputs(meta_keys=('img_shape', 'scale_factor', 'flip',
                                      'labeled_tasks'))(r)
    s = packed['data_samples']
    assert s.flip and s.scale_factor == (2.0, 2.0)
    box = s.gt_instances.bboxes[0].tolist()
    seg = s.gt_sem_seg.data[0].numpy()
    assert _box_of_mask(seg == 5) == box == [14, 4, 22, 12]
    assert s.gt_normal.data[0, 5, 5] == pytest.approx(-0.6)


def test_annotations_only_labeled(tmp_path):
    import cv2
    path = str(tmp_path / 'seg.png')
    cv2.imwrite(path, np.ones((4, 4), np.uint8))
    r = dict(img=np.zeros((4, 4, 3), np.uint8), seg_map_path=path,
             labeled_tasks=[])
    assert 'gt_seg_map' not in LoadMTLAnnotations()(dict(r))
    out = LoadMTLAnnotations(only_labeled=False)(dict(r))
    assert out['gt_seg_map'].sum() == 16
    r['img'] = np.zeros((5, 4, 3), np.uint8)
    with pytest.raises(Exception, match='seg.png: label is 4x4'):
        LoadMTLAnnotations(only_labeled=False)(dict(r))


def test_scale_crop_divides_depth_and_keeps_boxes_on_mask():
    from mtlbox.datasets.transforms import MTLRandomScaleCrop
    for seed in range(8):
        r = _sample(16, 24)
        r['gt_seg_map'][:] = 0
        r['gt_seg_map'][4:12, 2:10] = 5
        r['gt_bboxes'] = np.array([[2, 4, 10, 12]], np.float32)
        out = MTLRandomScaleCrop(scales=(2.0, ), seed=seed)(r)
        assert out['img'].shape == (16, 24, 3) and out['zoom'] == 2.0
        d = out['gt_depth']
        assert set(np.unique(d)) <= {0.0, 1.0}  # 2 m / zoom 2
        mask = out['gt_seg_map'] == 5
        if len(out['gt_bboxes']):
            assert _box_of_mask(mask) == out['gt_bboxes'][0].tolist()
        n = np.linalg.norm(out['gt_normal'], axis=-1)
        assert np.allclose(n[n > 0], 1, atol=1e-5)


def test_expand_shifts_boxes_and_marks_invalid():
    from mtlbox.datasets.transforms import MTLRandomExpand
    out = MTLRandomExpand(ratio_range=(2.0, 2.0), prob=1.0, seed=1)(
        _sample())
    assert out['img'].shape == (16, 24, 3)
    mask = out['gt_seg_map'] == 5
    assert _box_of_mask(mask) == out['gt_bboxes'][0].tolist()
    valid = out['gt_depth'] > 0
    assert valid.sum() == 8 * 12 - 1
    assert (out['gt_seg_map'][~valid & (out['gt_normal'].sum(-1) == 0)]
            == 255).sum() >= 16 * 24 - 8 * 12
    # resize back: depth x 2 (objects look 2x farther)
    back = MTLResize(scale=(12, 8), scale_depth=True)(out)
    assert set(np.unique(back['gt_depth'])) <= {0.0, 4.0}


class _FlipData:

    def __len__(self):
        return 64

    def __getitem__(self, i):
        r = MTLRandomFlip.__call__(self.flip, dict(img=np.zeros((1, 2, 3),
                                                                np.uint8)))
        return int(r['flip'])


def test_workers_draw_independent_flips():
    import torch
    data = _FlipData()
    data.flip = MTLRandomFlip(prob=0.5, seed=0)
    loader = torch.utils.data.DataLoader(data, batch_size=16, num_workers=2)
    batches = [b.tolist() for b in loader]
    # worker 0 yields batches 0, 2; worker 1 batches 1, 3: same state copied
    # into both would make batch 0 == batch 1
    assert batches[0] != batches[1]
    # the main process is exactly reproducible from the seed
    main = [data[i] for i in range(16)]
    want = (np.random.default_rng(0).random(16) < 0.5).astype(int).tolist()
    assert main == want
