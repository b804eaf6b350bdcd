import numpy as np
import pytest
from dataset_helpers import LOAD, PACK

from mtlbox.datasets import (CorruptSampleError, EUVPPairedDataset,
                             PartialMTLDataset, SynthUnderwaterRGBD,
                             UIEBDataset, UnderwaterCocoDataset, URPCDataset)
from mtlbox.datasets.synth_scenes import WATER_TYPES


@pytest.mark.parametrize('name', ['duo', 'ruod'])
def test_coco_underwater(make, name):
    t = make(name)
    ds = UnderwaterCocoDataset(data_root=t['data_root'],
                               ann_file=t['ann_file'], img_dir=t['img_dir'],
                               pipeline=LOAD + [PACK])
    assert ds.metainfo['classes'] == t['classes']
    assert len(ds) == 2
    for i, img_id in enumerate((1, 2)):
        inst = ds[i]['data_samples'].gt_instances
        want = t['det'][img_id]
        np.testing.assert_allclose(inst.bboxes.numpy(), want['bboxes'])
        assert inst.labels.tolist() == want['labels'].tolist()
        assert inst.ignore_flags.tolist() == want['ignore'].tolist()


def test_coco_malformed_json_names_line(make, tmp_path):
    t = make('duo')
    path = tmp_path / 'duo' / t['ann_file']
    path.write_text('{"images": [\n  {"id": 1,}\n]}')
    with pytest.raises(CorruptSampleError, match=r'instances_train.json.*'
                       r'line 2'):
        UnderwaterCocoDataset(data_root=t['data_root'])


def test_coco_annotation_of_an_unlisted_image_is_an_error(make, tmp_path):
    """A box whose image_id is not in "images" is never silently lost."""
    import json
    t = make('duo')
    path = tmp_path / 'duo' / t['ann_file']
    data = json.loads(path.read_text())
    data['annotations'].append(dict(id=999, image_id=77, category_id=
                                    data['categories'][0]['id'],
                                    bbox=[1, 1, 4, 4], area=16, iscrowd=0))
    path.write_text(json.dumps(data))
    with pytest.raises(CorruptSampleError,
                       match=r'instances_train.json: 1 annotation.*'
                       r'\(999, 77\)'):
        UnderwaterCocoDataset(data_root=t['data_root'])
    ds = UnderwaterCocoDataset(data_root=t['data_root'], skip_invalid=True)
    assert len(ds) == 2 and ds.num_skipped == 1


def test_urpc_xml_skips_unknown_class(make):
    t = make('urpc')
    ds = URPCDataset(data_root=t['data_root'], pipeline=LOAD + [PACK])
    inst = ds[0]['data_samples'].gt_instances
    np.testing.assert_allclose(inst.bboxes.numpy(),
                               t['det']['000001']['bboxes'])
    assert inst.labels.tolist() == [1, 3]


@pytest.mark.parametrize('name,cls', [('uieb', UIEBDataset),
                                      ('euvp', EUVPPairedDataset)])
def test_enhancement_pairs(make, name, cls):
    t = make(name)
    ds = cls(data_root=t['data_root'], pipeline=LOAD + [PACK])
    assert len(ds) == len(t['pairs'])
    for i in range(len(ds)):
        out = ds[i]
        s = out['data_samples']
        raw, clean = t['pairs'][s.img_path.split('/')[-1]]
        assert s.labeled_tasks == ['enhance']
        np.testing.assert_array_equal(out['inputs'].permute(1, 2, 0).numpy(),
                                      raw)
        np.testing.assert_array_equal(
            s.gt_clean_img.data.permute(1, 2, 0).numpy(), clean)


def test_uieb_missing_reference_is_reported(make, tmp_path):
    t = make('uieb')
    (tmp_path / 'uieb' / 'reference-890' / '2_img_.png').unlink()
    with pytest.raises(CorruptSampleError, match='2_img_.png'):
        UIEBDataset(data_root=t['data_root'])
    ds = UIEBDataset(data_root=t['data_root'], skip_invalid=True)
    assert len(ds) == 1 and ds.num_skipped == 1


def test_synthetic_underwater_formation(make):
    t = make('nyuv2_mtan')
    ds = SynthUnderwaterRGBD(
        source=dict(type='NYUv2MTANDataset', data_root=t['data_root'],
                    pipeline=LOAD),
        keep_tasks=['depth'], seed=5, pipeline=[PACK])
    assert len(ds) == 3
    names = set()
    for i in range(3):
        out = ds[i]
        s = out['data_samples']
        assert s.labeled_tasks == ['depth', 'enhance']
        assert 'gt_sem_seg' not in s
        truth = t['samples'][('train', i)]
        clean_bgr = (truth['img'][..., ::-1] * 255 + 0.5).astype(np.uint8)
        np.testing.assert_array_equal(
            s.gt_clean_img.data.permute(1, 2, 0).numpy(), clean_bgr)
        name, beta, back = ds.water(i)
        names.add(name)
        assert name in WATER_TYPES
        base_beta = np.asarray(WATER_TYPES[name][0])
        assert np.all(np.abs(beta / base_beta - 1) <= 0.2 + 1e-9)
        # I = J exp(-beta d) + B (1 - exp(-beta d)) at a valid pixel, by hand
        d = truth['depth'][5, 7]
        j = clean_bgr[5, 7, ::-1] / 255.0
        want = j * np.exp(-beta * d) + back * (1 - np.exp(-beta * d))
        got = out['inputs'][:, 5, 7].numpy()[::-1] / 255.0
        np.testing.assert_allclose(got, want, atol=1 / 255 + 1e-6)
        # invalid depth pixel (row 1, cols 0..2) uses the largest depth
        dmax = truth['depth'].max()
        j = clean_bgr[1, 0, ::-1] / 255.0
        want = j * np.exp(-beta * dmax) + back * (1 - np.exp(-beta * dmax))
        got = out['inputs'][:, 1, 0].numpy()[::-1] / 255.0
        np.testing.assert_allclose(got, want, atol=1 / 255 + 1e-6)
    # deterministic
    np.testing.assert_array_equal(ds[0]['inputs'], ds[0]['inputs'])


def test_underwater_det_enhance_merge(make):
    duo, uieb = make('duo'), make('uieb')
    resize = [dict(type='MTLResize', scale=(20, 16))]
    ds = PartialMTLDataset(sources=[
        dict(type='UnderwaterCocoDataset', data_root=duo['data_root'],
             pipeline=LOAD + resize),
        dict(type='UIEBDataset', data_root=uieb['data_root'],
             pipeline=LOAD + resize)], pipeline=[PACK])
    assert ds.task_counts() == {'det': 2, 'enhance': 2}
    s = ds[0]['data_samples']
    assert s.labeled_tasks == ['det'] and 'gt_clean_img' not in s
    # boxes follow the resize 28x20 -> 20x16
    np.testing.assert_allclose(
        s.gt_instances.bboxes[0].numpy(),
        np.array([2, 3, 12, 11]) * [20 / 28, 16 / 20, 20 / 28, 16 / 20],
        rtol=1e-5)
    s = ds[3]['data_samples']
    assert s.labeled_tasks == ['enhance'] and s.gt_clean_img.shape == (16, 20)
