import numpy as np
import pytest
from dataset_helpers import LOAD, PACK

from mtlbox.datasets import (DatasetLayoutError, NYUDepthListDataset,
                             NYUDMTDataset, NYUv2MTANDataset)


def test_nyuv2_mtan_values(make):
    truth = make('nyuv2_mtan')
    ds = NYUv2MTANDataset(data_root=truth['data_root'], split='train',
                          pipeline=LOAD + [PACK])
    assert len(ds) == 3
    for i in range(3):
        t = truth['samples'][('train', i)]
        out = ds[i]
        s = out['data_samples']
        assert s.labeled_tasks == ['seg', 'depth', 'normal']
        # image: float RGB [0, 1] -> uint8 BGR; inputs are CHW BGR
        want = (t['img'][..., ::-1] * 255 + 0.5).astype(np.uint8)
        np.testing.assert_array_equal(out['inputs'].permute(1, 2, 0).numpy(),
                                      want)
        seg = s.gt_sem_seg.data[0].numpy()
        np.testing.assert_array_equal(
            seg, np.where(t['label'] < 0, 255, t['label']))
        assert (seg[0] == 255).all()
        np.testing.assert_allclose(s.gt_depth.data[0].numpy(), t['depth'])
        assert (s.gt_depth.data[0, 1, :3] == 0).all()
        normal = s.gt_normal.data.permute(1, 2, 0).numpy()
        np.testing.assert_allclose(normal, t['normal'], atol=1e-6)
        assert (normal[2, :2] == 0).all()
    assert len(NYUv2MTANDataset(data_root=truth['data_root'],
                                split='val')) == 2


def test_nyud_mt_values_and_missing_edge(make):
    truth = make('nyud_mt')
    ds = NYUDMTDataset(data_root=truth['data_root'], pipeline=LOAD + [PACK])
    assert len(ds) == 2
    s0 = ds[0]['data_samples']
    t0 = truth['samples']['000001']
    assert s0.labeled_tasks == ['seg', 'depth', 'normal', 'edge']
    seg = s0.gt_sem_seg.data[0].numpy()
    # 0 -> ignore, k -> k - 1
    np.testing.assert_array_equal(
        seg, np.where(t0['seg'] == 0, 255, t0['seg'].astype(int) - 1))
    np.testing.assert_allclose(s0.gt_depth.data[0].numpy(), t0['depth'])
    n = s0.gt_normal.data.permute(1, 2, 0).numpy()
    want = t0['normal_png_rgb'] * (2 / 255) - 1
    want /= np.linalg.norm(want, axis=-1, keepdims=True)
    np.testing.assert_allclose(n, want, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(n, axis=-1), 1, atol=1e-5)
    np.testing.assert_array_equal(s0.gt_edge.data[0].numpy(), t0['edge'])
    s1 = ds[1]['data_samples']
    assert s1.labeled_tasks == ['seg', 'depth', 'normal']
    assert 'gt_edge' not in s1


def test_nyu_depth_list_mm_png(make):
    truth = make('nyu_depth_list')
    ds = NYUDepthListDataset(data_root=truth['data_root'],
                             list_file='train.txt', pipeline=LOAD + [PACK])
    assert len(ds) == 3
    for k in range(2):
        s = ds[k]['data_samples']
        assert s.labeled_tasks == ['depth']
        np.testing.assert_allclose(s.gt_depth.data[0].numpy(),
                                   truth['depth'][k], rtol=1e-6)
        assert s.gt_depth.data[0, 0, 0] == 0
    assert ds[2]['data_samples'].labeled_tasks == []
    assert ds.get_data_info(0)['focal'] == pytest.approx(518.8579)


def test_nyu_missing_split_names_path(tmp_path):
    with pytest.raises(DatasetLayoutError,
                       match=r'gt_sets/train.txt not found.*#nyud-mt'):
        (tmp_path / 'x').mkdir()
        NYUDMTDataset(data_root=str(tmp_path / 'x'))
    (tmp_path / 'y' / 'train').mkdir(parents=True)
    with pytest.raises(DatasetLayoutError, match=r'train/image not found'):
        NYUv2MTANDataset(data_root=str(tmp_path / 'y'))


def test_nyuv2_mtan_missing_label_file(make, tmp_path):
    from mtlbox.datasets import CorruptSampleError
    t = make('nyuv2_mtan')
    (tmp_path / 'nyuv2_mtan' / 'train' / 'depth' / '1.npy').unlink()
    with pytest.raises(CorruptSampleError, match=r'depth/1.npy'):
        NYUv2MTANDataset(data_root=t['data_root'])
    ds = NYUv2MTANDataset(data_root=t['data_root'], skip_invalid=True)
    assert len(ds) == 2 and ds.num_skipped == 1
    assert [ds.get_data_info(i)['img_id'] for i in range(2)] == ['0', '2']


def test_corrupt_npy_names_file(make, tmp_path):
    from mtlbox.datasets import CorruptSampleError
    t = make('nyuv2_mtan')
    (tmp_path / 'nyuv2_mtan' / 'train' / 'label' / '2.npy').write_bytes(
        b'\x93NUMPY garbage')
    ds = NYUv2MTANDataset(data_root=t['data_root'], pipeline=LOAD + [PACK])
    with pytest.raises(CorruptSampleError, match=r'label/2.npy'):
        ds[2]
    ds = NYUv2MTANDataset(data_root=t['data_root'], pipeline=LOAD + [PACK],
                          skip_invalid=True)
    # train mode: skipped, the next sample comes back, the skip is counted
    assert ds[2]['data_samples'].img_path.endswith('0.npy')
    assert ds.num_skipped == 1
