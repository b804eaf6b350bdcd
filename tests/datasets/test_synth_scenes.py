import numpy as np
import pytest

from mtlbox.datasets import SynthScenes
from mtlbox.datasets.synth_scenes import (WATER_TYPES, render_scene,
                                          sample_scene, underwater)


def test_deterministic_from_seed_and_index():
    a = SynthScenes(num_samples=4, img_size=(32, 40), seed=7).render(2)
    b = SynthScenes(num_samples=9, img_size=(32, 40), seed=7).render(2)
    c = SynthScenes(num_samples=4, img_size=(32, 40), seed=8).render(2)
    np.testing.assert_array_equal(a['img'], b['img'])
    np.testing.assert_array_equal(a['gt_depth'], b['gt_depth'])
    assert not np.array_equal(a['img'], c['img'])


def test_shapes_dtypes_and_ranges():
    ds = SynthScenes(num_samples=6, img_size=(48, 64), underwater=True,
                     tasks=('det', 'seg', 'depth', 'normal', 'enhance'))
    for i in range(6):
        r = ds.render(i)
        assert r['img'].shape == (48, 64, 3) and r['img'].dtype == np.uint8
        assert r['gt_clean_img'].shape == (48, 64, 3)
        assert r['gt_seg_map'].shape == (48, 64)
        assert set(np.unique(r['gt_seg_map'])) <= set(range(6))
        assert (r['gt_depth'] > 0).all() and (r['gt_depth'] < 12).all()
        norms = np.linalg.norm(r['gt_normal'], axis=-1)
        np.testing.assert_allclose(norms, 1.0, atol=1e-4)
        # normals face the camera: n . ray < 0
        K = r['cam_K']
        v, u = np.mgrid[0:48, 0:64]
        rays = np.stack([(u + .5 - K[0, 2]) / K[0, 0],
                         (v + .5 - K[1, 2]) / K[1, 1], np.ones((48, 64))], -1)
        assert ((r['gt_normal'] * rays).sum(-1) < 1e-6).all()
        boxes = r['gt_bboxes']
        assert boxes.shape[1] == 4 and len(boxes) == len(r['gt_bboxes_labels'])
        assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 0] >= 0).all()
        assert (boxes[:, 2] <= 64).all() and (boxes[:, 3] <= 48).all()
        assert set(r['gt_bboxes_labels']) <= set(range(4))


def _camera_points(depth, K):
    h, w = depth.shape
    v, u = np.mgrid[0:h, 0:w]
    x = (u + 0.5 - K[0, 2]) / K[0, 0] * depth
    y = (v + 0.5 - K[1, 2]) / K[1, 1] * depth
    return np.stack([x, y, depth], -1)


def test_floor_normals_agree_with_depth_geometry():
    """Normals from the cross product of back-projected depth differences
    match the labelled normals on the floor (a plane: exact)."""
    ds = SynthScenes(num_samples=3, img_size=(60, 80), noise_std=0)
    checked = 0
    for i in range(3):
        r = ds.render(i)
        pts = _camera_points(r['gt_depth'], r['cam_K'])
        du = pts[1:-1, 2:] - pts[1:-1, :-2]
        dv = pts[2:, 1:-1] - pts[:-2, 1:-1]
        n = np.cross(du, dv)
        n /= np.linalg.norm(n, axis=-1, keepdims=True)
        seg = r['gt_seg_map']
        floor = np.ones_like(seg[1:-1, 1:-1], bool)
        for dy in (-1, 0, 1):  # all 3x3 neighbours on the floor
            for dx in (-1, 0, 1):
                floor &= seg[1 + dy:seg.shape[0] - 1 + dy,
                             1 + dx:seg.shape[1] - 1 + dx] == 0
        gt = r['gt_normal'][1:-1, 1:-1]
        cos = np.abs((n * gt).sum(-1))[floor]
        assert floor.sum() > 200
        assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 1.0
        checked += 1
    assert checked == 3


def test_boxes_are_tight_around_visible_instance_pixels():
    rng = np.random.default_rng([0, 5])
    scene = sample_scene(rng)
    out = render_scene(scene, 64, 80, min_box_pixels=1)
    visible = [i for i in range(len(scene['objects']))
               if (out['instance'] == i).any()]
    assert len(out['boxes']) == len(visible)
    for box, i in zip(out['boxes'], visible):
        ys, xs = np.nonzero(out['instance'] == i)
        assert box.tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        assert out['box_labels'][visible.index(i)] == scene['objects'][i]['label']
        # segmentation of those pixels is the object's class
        assert (out['seg'][ys, xs] == 2 + scene['objects'][i]['label']).all()


def test_underwater_formation_model():
    clean = np.full((1, 2, 3), 0.5, np.float32)
    ranges = np.array([[0.0, 2.0]], np.float32)
    beta, back = (0.4, 0.1, 0.05), (0.1, 0.4, 0.5)
    out = underwater(clean, ranges, beta, back)
    np.testing.assert_allclose(out[0, 0], 0.5)  # zero range: clean image
    t = np.exp(-np.array(beta) * 2.0)
    np.testing.assert_allclose(out[0, 1], 0.5 * t + np.array(back) * (1 - t),
                               rtol=1e-6)
    assert set(WATER_TYPES) == {'oceanic', 'coastal', 'turbid'}


def test_partial_labelling_groups_and_probabilities():
    ds = SynthScenes(num_samples=6, img_size=(16, 16),
                     tasks=('det', 'seg', 'depth'),
                     label_groups=[['det', 'seg'], ['depth']])
    assert [ds.render(i)['labeled_tasks'] for i in range(4)] == [
        ['det', 'seg'], ['depth'], ['det', 'seg'], ['depth']]
    ds = SynthScenes(num_samples=400, img_size=(8, 8), tasks=('seg', 'depth'),
                     label_prob=dict(depth=0.25))
    rng_tasks = [ds.labeled_tasks(i, np.random.default_rng([0, i, 1]))
                 for i in range(400)]
    frac = np.mean(['depth' in t for t in rng_tasks])
    assert 0.18 < frac < 0.32
    assert all('seg' in t for t in rng_tasks)


def test_packed_sample_has_only_labelled_fields():
    ds = SynthScenes(num_samples=2, img_size=(16, 24),
                     tasks=('det', 'seg', 'depth'),
                     label_groups=[['det', 'seg'], ['depth']],
                     pipeline=[dict(type='PackMTLInputs')])
    first, second = ds[0]['data_samples'], ds[1]['data_samples']
    assert 'gt_instances' in first and 'gt_sem_seg' in first
    assert 'gt_depth' not in first
    assert 'gt_depth' in second and 'gt_sem_seg' not in second
    assert second.gt_depth.data.shape == (1, 16, 24)
    assert ds[0]['inputs'].shape == (3, 16, 24)


@pytest.mark.parametrize('kwargs,match', [
    (dict(tasks=('seg', 'enhance')), 'underwater=True'),
    (dict(tasks=('seg', 'dpeth')), 'dpeth'),
    (dict(label_groups=[['seg', 'depth']], tasks=('seg', )), 'depth'),
    (dict(img_size=(4, 4)), 'img_size'),
])
def test_bad_options_fail_clearly(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SynthScenes(num_samples=2, **kwargs)


def test_pack_task_map_keeps_task_names_and_packs_their_field():
    from mtlbox.datasets.transforms import PackMTLInputs
    results = dict(img=np.zeros((4, 4, 3), np.uint8), gt_label=[3, 7],
                   labeled_tasks=['left', 'right'])
    packed = PackMTLInputs(task_map=dict(left='cls', right='cls'))(results)
    sample = packed['data_samples']
    assert sample.labeled_tasks == ['left', 'right']
    assert sample.gt_label.label.tolist() == [3, 7]
    with pytest.raises(KeyError, match='task_map'):
        PackMTLInputs()(dict(img=np.zeros((4, 4, 3), np.uint8),
                             gt_label=[1], labeled_tasks=['Art']))
