import numpy as np
import pytest
from dataset_helpers import LOAD, PACK

from mtlbox.datasets import (CorruptSampleError, DatasetLayoutError,
                             VOCMTLDataset)


def _by_id(ds):
    return {ds.get_data_info(i)['img_id']: i for i in range(len(ds))}


def test_voc_labels_match_fixture(make):
    truth = make('voc')
    ds = VOCMTLDataset(data_root=truth['data_root'], split='train',
                       pipeline=LOAD + [PACK])
    ids = _by_id(ds)
    assert sorted(ids) == ['2008_000001', '2008_000002', '2008_000003']
    tasks = {k: ds.get_data_info(i)['labeled_tasks'] for k, i in ids.items()}
    assert tasks == {'2008_000001': ['det', 'seg'], '2008_000002': ['det'],
                     '2008_000003': ['seg']}
    for img_id, i in ids.items():
        sample = ds[i]['data_samples']
        assert sample.source == 'VOC'
        if img_id in truth['det']:
            want = truth['det'][img_id]
            inst = sample.gt_instances
            np.testing.assert_allclose(inst.bboxes.numpy(), want['bboxes'])
            assert inst.labels.tolist() == want['labels'].tolist()
            assert inst.ignore_flags.tolist() == want['ignore'].tolist()
        else:
            assert 'gt_instances' not in sample
        if img_id in truth['seg']:
            seg = sample.gt_sem_seg.data[0].numpy()
            np.testing.assert_array_equal(seg, truth['seg'][img_id])
            assert set(np.unique(seg)) <= {0, 7, 12, 255}
        else:
            assert 'gt_sem_seg' not in sample
    # hand check: dog box (3, 4, 20, 18) 1-based -> (2, 3, 20, 18); bus is
    # difficult
    first = ds[ids['2008_000001']]['data_samples'].gt_instances
    assert first.bboxes[0].tolist() == [2, 3, 20, 18]
    assert first.labels.tolist() == [11, 14]  # dog, person
    second = ds[ids['2008_000002']]['data_samples'].gt_instances
    assert second.ignore_flags.tolist() == [False, True]


def test_voc_aug_dir_and_det_only(make):
    truth = make('voc')
    ds = VOCMTLDataset(data_root=truth['data_root'], split='val',
                       seg_dir='SegmentationClassAug', pipeline=LOAD + [PACK])
    assert len(ds) == 2
    det = VOCMTLDataset(data_root=truth['data_root'], tasks=('det', ),
                        pipeline=LOAD + [PACK])
    assert [det.get_data_info(i)['labeled_tasks'] for i in range(len(det))
            ] == [['det'], ['det']]


def test_voc_missing_folder_names_path_and_docs(make, tmp_path):
    truth = make('voc')
    import shutil
    shutil.rmtree(tmp_path / 'voc' / 'VOC2012' / 'Annotations')
    with pytest.raises(DatasetLayoutError) as err:
        VOCMTLDataset(data_root=truth['data_root'])
    msg = str(err.value)
    assert str(tmp_path / 'voc' / 'VOC2012' / 'Annotations') in msg
    assert 'docs/datasets.md#voc' in msg
    assert 'tools/data/make_fixture.py voc DIR' in msg
    with pytest.raises(DatasetLayoutError, match='nowhere'):
        VOCMTLDataset(data_root=str(tmp_path / 'nowhere'))


def test_voc_malformed_xml_raises_or_skips(make, tmp_path):
    truth = make('voc')
    bad = tmp_path / 'voc' / 'VOC2012' / 'Annotations' / '2008_000002.xml'
    bad.write_text('<annotation>\n<object><name>car</name>\n')
    with pytest.raises(CorruptSampleError, match='2008_000002.xml.*line'):
        VOCMTLDataset(data_root=truth['data_root'])
    ds = VOCMTLDataset(data_root=truth['data_root'], skip_invalid=True)
    assert ds.num_skipped == 1
    assert len(ds) == 2  # the det-only image is gone, the others stay


def test_corrupt_image_raises_or_is_skipped(make, tmp_path):
    truth = make('voc')
    jpg = tmp_path / 'voc' / 'VOC2012' / 'JPEGImages' / '2008_000001.jpg'
    jpg.write_bytes(b'not a jpeg')
    ds = VOCMTLDataset(data_root=truth['data_root'], pipeline=LOAD + [PACK])
    idx = _by_id(ds)['2008_000001']
    with pytest.raises(CorruptSampleError, match='2008_000001.jpg'):
        ds[idx]
    ds = VOCMTLDataset(data_root=truth['data_root'], pipeline=LOAD + [PACK],
                       skip_invalid=True, test_mode=True)
    out = ds[idx]
    assert ds.num_skipped == 1
    assert out['data_samples'].img_path != str(jpg)
