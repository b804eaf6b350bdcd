"""Data that is wrong on disk is rejected with an error naming the file, or
corrected with a logged count -- never read wrong silently (issue #14).

Every layout here is written by hand in the official format (JSON, VOC XML,
PNG via PIL/OpenCV), independently of ``mtlbox/datasets/fixtures.py``.
"""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from dataset_helpers import LOAD
from PIL import Image

import mtlbox.datasets.voc as voc_module
from mtlbox.datasets import (CorruptSampleError, NYUDepthListDataset,
                             UnderwaterCocoDataset, URPCDataset,
                             VOCMTLDataset)
from mtlbox.datasets.transforms.loading import LoadMTLAnnotations

H, W = 20, 30  # image height, width (not square, not the input size)


def _jpg(path, h=H, w=W):
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(np.full((h, w, 3), 90, np.uint8)).save(path)


def _text(path, text):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


@pytest.fixture
def warnings_log(monkeypatch):
    """Messages of the one-per-dataset warnings (print_log of voc.py)."""
    seen = []

    def fake(msg, logger=None, level=None):
        seen.append(msg)

    monkeypatch.setattr(voc_module, 'print_log', fake)
    return seen


# ------------------------------------------------------------------ COCO
def _coco(root, anns, images=None):
    images = images or [dict(id=1, file_name='a.jpg', width=W, height=H),
                        dict(id=2, file_name='b.jpg', width=W, height=H)]
    for img in images:
        _jpg(osp.join(root, 'images', 'train', img['file_name']))
    data = dict(images=images, annotations=anns,
                categories=[dict(id=1, name='holothurian'),
                            dict(id=2, name='echinus')])
    path = osp.join(root, 'annotations', 'instances_train.json')
    _text(path, json.dumps(data))
    return path


def _ann(ann_id, img_id, cat, bbox):
    return dict(id=ann_id, image_id=img_id, category_id=cat, bbox=bbox,
                area=bbox[2] * bbox[3], iscrowd=0)


def test_coco_unknown_category_is_an_error_or_counted_skip(tmp_path):
    root = str(tmp_path / 'duo')
    path = _coco(root, [_ann(3, 1, 1, [2, 2, 5, 5]),
                        _ann(7, 1, 5, [10, 4, 6, 8]),  # category 5: none
                        _ann(8, 2, 2, [1, 1, 4, 4])])
    with pytest.raises(CorruptSampleError) as err:
        UnderwaterCocoDataset(data_root=root)
    msg = str(err.value)
    for part in (path, 'annotation id 7', 'category_id 5', '[1, 2]'):
        assert part in msg
    ds = UnderwaterCocoDataset(data_root=root, skip_invalid=True)
    # the whole image is skipped (its object must not become background)
    assert ds.num_skipped == 1
    assert [ds.get_data_info(i)['img_id'] for i in range(len(ds))] == [2]


def test_coco_subset_of_classes_still_leaves_others_out(tmp_path):
    """Categories of the JSON that metainfo leaves out are not errors."""
    root = str(tmp_path / 'duo')
    _coco(root, [_ann(3, 1, 1, [2, 2, 5, 5]), _ann(4, 1, 2, [9, 2, 5, 5])])
    ds = UnderwaterCocoDataset(data_root=root,
                               metainfo=dict(classes=('echinus', )))
    inst = ds.get_data_info(0)['instances']
    assert [i['bbox_label'] for i in inst] == [0]
    assert inst[0]['bbox'] == [9, 2, 14, 7]


@pytest.mark.parametrize('bbox', [[4, 4, 0, 6], [4, 4, 6, -3]])
def test_coco_box_without_area_is_an_error(tmp_path, bbox):
    root = str(tmp_path / 'duo')
    path = _coco(root, [_ann(11, 1, 1, bbox), _ann(12, 2, 1, [1, 1, 3, 3])])
    with pytest.raises(CorruptSampleError) as err:
        UnderwaterCocoDataset(data_root=root)
    msg = str(err.value)
    assert path in msg and 'annotation id 11' in msg
    assert str(bbox) in msg or str([float(v) for v in bbox]) in msg
    ds = UnderwaterCocoDataset(data_root=root, skip_invalid=True)
    assert ds.num_skipped == 1 and len(ds) == 1


def test_coco_box_partly_outside_is_clipped_and_logged(tmp_path,
                                                      warnings_log):
    root = str(tmp_path / 'duo')
    # [25, 15, 10, 10] -> xyxy (25, 15, 35, 25), image 30 wide, 20 high
    _coco(root, [_ann(5, 1, 1, [25, 15, 10, 10]),
                 _ann(6, 1, 2, [-3, 2, 8, 4]),      # -> (0, 2, 5, 6)
                 _ann(9, 2, 1, [1, 1, 4, 4])])
    ds = UnderwaterCocoDataset(data_root=root)
    boxes = [i['bbox'] for i in ds.get_data_info(0)['instances']]
    assert boxes == [[25, 15, 30, 20], [0, 2, 5, 6]]
    assert ds.get_data_info(1)['instances'][0]['bbox'] == [1, 1, 5, 5]
    assert ds.num_clipped == 2
    clipped = [m for m in warnings_log if 'clipped' in m]
    assert len(clipped) == 1  # once per dataset
    assert '2 boxes' in clipped[0] and 'a.jpg' in clipped[0]


def test_coco_box_entirely_outside_is_an_error(tmp_path):
    root = str(tmp_path / 'duo')
    _coco(root, [_ann(5, 1, 1, [40, 2, 5, 5])])
    with pytest.raises(CorruptSampleError, match='annotation id 5.*outside'):
        UnderwaterCocoDataset(data_root=root)


# ------------------------------------------------------------------- VOC
def _voc_xml(objects, width=W, height=H):
    objs = ''.join(
        f'<object><name>{name}</name><difficult>0</difficult><bndbox>'
        f'<xmin>{b[0]}</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax>'
        f'<ymax>{b[3]}</ymax></bndbox></object>' for name, b in objects)
    return (f'<annotation><size><width>{width}</width><height>{height}'
            f'</height><depth>3</depth></size>{objs}</annotation>')


def _voc(root, xmls, seg=None):
    """VOC2012 layout: ``xmls`` {id: xml text}; ``seg`` {id: writer}."""
    ids = list(xmls) or list(seg)
    for img_id in ids:
        _jpg(osp.join(root, 'JPEGImages', img_id + '.jpg'))
    for img_id, xml in xmls.items():
        _text(osp.join(root, 'Annotations', img_id + '.xml'), xml)
    _text(osp.join(root, 'ImageSets', 'Main', 'train.txt'),
          '\n'.join(xmls) + '\n')
    os.makedirs(osp.join(root, 'Annotations'), exist_ok=True)
    if seg:
        os.makedirs(osp.join(root, 'SegmentationClass'), exist_ok=True)
        for img_id, write in seg.items():
            write(osp.join(root, 'SegmentationClass', img_id + '.png'))
        _text(osp.join(root, 'ImageSets', 'Segmentation', 'train.txt'),
              '\n'.join(seg) + '\n')


def test_voc_inverted_box_is_an_error_naming_object(tmp_path):
    root = str(tmp_path / 'VOC2012')
    _voc(root, {'a': _voc_xml([('dog', (3, 4, 12, 15)),
                               ('cat', (20, 5, 9, 14))]),  # xmin > xmax
                'b': _voc_xml([('cat', (2, 2, 8, 8))])})
    xml = osp.join(root, 'Annotations', 'a.xml')
    with pytest.raises(CorruptSampleError) as err:
        VOCMTLDataset(data_root=root, tasks=('det', ))
    msg = str(err.value)
    assert xml in msg and 'object 1' in msg and "'cat'" in msg
    assert 'xmin=20' in msg and 'xmax=9' in msg
    ds = VOCMTLDataset(data_root=root, tasks=('det', ), skip_invalid=True)
    assert ds.num_skipped == 1
    assert [ds.get_data_info(i)['img_id'] for i in range(len(ds))] == ['b']


def test_voc_one_pixel_box_is_valid(tmp_path):
    """xmin == xmax is one pixel wide in VOC's inclusive convention."""
    root = str(tmp_path / 'VOC2012')
    _voc(root, {'a': _voc_xml([('dog', (5, 6, 5, 9))])})
    ds = VOCMTLDataset(data_root=root, tasks=('det', ))
    assert ds.get_data_info(0)['instances'][0]['bbox'] == [4, 5, 5, 9]


def test_voc_box_outside_image_is_clipped_and_logged(tmp_path, warnings_log):
    root = str(tmp_path / 'VOC2012')
    # 1-based (25, 3, 40, 25) -> (24, 2, 40, 25) -> clipped (24, 2, 30, 20)
    _voc(root, {'a': _voc_xml([('dog', (25, 3, 40, 25)),
                               ('cat', (2, 2, 8, 8))]),
                'b': _voc_xml([('cat', (0, 2, 8, 8))])})  # xmin 0 -> -1
    ds = VOCMTLDataset(data_root=root, tasks=('det', ))
    assert [i['bbox'] for i in ds.get_data_info(0)['instances']] == [
        [24, 2, 30, 20], [1, 1, 8, 8]]
    assert ds.get_data_info(1)['instances'][0]['bbox'] == [0, 1, 8, 8]
    assert ds.num_clipped == 2
    clipped = [m for m in warnings_log if 'clipped' in m]
    assert len(clipped) == 1 and '2 boxes' in clipped[0]
    assert 'a.xml' in clipped[0]


def test_voc_size_unlike_the_image_is_an_error_at_loading(tmp_path):
    """Boxes are clipped to the XML's <size> when the annotations are read
    (no image is decoded then); an image of another size is stopped when it
    is loaded, naming the file and both sizes."""
    root = str(tmp_path / 'VOC2012')
    _voc(root, {'a': _voc_xml([('dog', (3, 4, 36, 15))], width=40),
                'b': _voc_xml([('cat', (2, 2, 8, 8))])})
    ds = VOCMTLDataset(data_root=root, tasks=('det', ), pipeline=LOAD)
    assert ds.get_data_info(0)['instances'][0]['bbox'] == [2, 3, 36, 15]
    jpg = osp.join(root, 'JPEGImages', 'a.jpg')
    with pytest.raises(CorruptSampleError) as err:
        ds[0]
    msg = str(err.value)
    assert jpg in msg and '40x20' in msg and f'{W}x{H}' in msg
    assert ds[1]['gt_bboxes'].tolist() == [[1, 1, 8, 8]]
    ds = VOCMTLDataset(data_root=root, tasks=('det', ), pipeline=LOAD,
                       skip_invalid=True, test_mode=True)
    assert ds[0]['img_path'].endswith('b.jpg') and ds.num_skipped == 1


def test_coco_size_unlike_the_image_is_an_error_at_loading(tmp_path):
    root = str(tmp_path / 'duo')
    _coco(root, [_ann(1, 1, 1, [2, 2, 5, 5]), _ann(2, 2, 2, [3, 3, 4, 4])],
          images=[dict(id=1, file_name='a.jpg', width=W, height=H + 5),
                  dict(id=2, file_name='b.jpg', width=W, height=H)])
    ds = UnderwaterCocoDataset(data_root=root, pipeline=LOAD)
    with pytest.raises(CorruptSampleError, match=r'a\.jpg.*'
                       rf'{W}x{H + 5} \(width x height\).*{W}x{H}'):
        ds[0]
    assert ds[1]['gt_bboxes'].tolist() == [[3, 3, 7, 7]]


def test_urpc_inverted_box_is_an_error(tmp_path):
    root = str(tmp_path / 'URPC')
    _jpg(osp.join(root, 'JPEGImages', 'u1.jpg'))
    _text(osp.join(root, 'Annotations', 'u1.xml'),
          _voc_xml([('echinus', (4, 12, 10, 3))]))  # ymin > ymax
    with pytest.raises(CorruptSampleError, match=r'u1\.xml.*object 0.*'
                       r'ymin=12.*ymax=3'):
        URPCDataset(data_root=root)


# ------------------------------------------------------------ seg masks
def _voc_colour(i):
    """VOC's colour map, built from its bit-interleaving definition."""
    r = g = b = 0
    for j in range(8):
        r |= ((i >> 0) & 1) << (7 - j)
        g |= ((i >> 1) & 1) << (7 - j)
        b |= ((i >> 2) & 1) << (7 - j)
        i >>= 3
    return r, g, b


def _index_map():
    seg = np.zeros((H, W), np.uint8)
    seg[2:8, 3:12] = 15  # person
    seg[10:18, 14:28] = 1  # aeroplane
    seg[8, :] = 255  # boundary
    return seg


def _palette_png(path, seg):
    im = Image.fromarray(seg, mode='P')
    im.putpalette([c for i in range(256) for c in _voc_colour(i)])
    im.save(path)


def _rgb_png(path, seg):
    rgb = np.array([_voc_colour(i) for i in range(256)], np.uint8)[seg]
    Image.fromarray(rgb, mode='RGB').save(path)


def test_voc_colours_hand_checked():
    assert _voc_colour(1) == (128, 0, 0)
    assert _voc_colour(15) == (192, 128, 128)
    assert _voc_colour(255) == (224, 224, 192)


def test_palette_png_with_ignore_borders_still_loads(tmp_path):
    root = str(tmp_path / 'VOC2012')
    seg = _index_map()
    _voc(root, {}, seg={'a': lambda p: _palette_png(p, seg)})
    ds = VOCMTLDataset(data_root=root, tasks=('seg', ), pipeline=LOAD)
    out = ds[0]['gt_seg_map']
    np.testing.assert_array_equal(out, seg)
    assert set(np.unique(out)) == {0, 1, 15, 255}


def test_rgb_colour_mask_is_an_error_naming_file_and_fix(tmp_path):
    root = str(tmp_path / 'VOC2012')
    seg = _index_map()
    _voc(root, {}, seg={'a': lambda p: _rgb_png(p, seg)})
    ds = VOCMTLDataset(data_root=root, tasks=('seg', ), pipeline=LOAD)
    with pytest.raises(CorruptSampleError) as err:
        ds[0]
    msg = str(err.value)
    png = osp.join(root, 'SegmentationClass', 'a.png')
    assert png in msg and "mode 'RGB'" in msg
    assert 'palette' in msg and "seg_palette='voc'" in msg


def test_rgb_colour_mask_with_voc_palette_option(tmp_path):
    root = str(tmp_path / 'VOC2012')
    seg = _index_map()
    _voc(root, {}, seg={'a': lambda p: _rgb_png(p, seg)})
    load = [dict(type='LoadMTLImageFromFile'),
            dict(type='LoadMTLAnnotations', seg_palette='voc')]
    ds = VOCMTLDataset(data_root=root, tasks=('seg', ), pipeline=load)
    np.testing.assert_array_equal(ds[0]['gt_seg_map'], seg)


def test_unknown_colour_with_palette_is_an_error(tmp_path):
    path = str(tmp_path / 'm.png')
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[3, 4] = (10, 200, 30)
    Image.fromarray(rgb).save(path)
    load = LoadMTLAnnotations(seg_palette='voc', only_labeled=False)
    with pytest.raises(CorruptSampleError, match=r'\(10, 200, 30\)'):
        load(dict(seg_map_path=path, img=np.zeros((H, W, 3), np.uint8)))


def test_grey_rgb_mask_keeps_its_indices(tmp_path):
    """An RGB file whose three channels are equal still holds the indices."""
    path = str(tmp_path / 'm.png')
    seg = _index_map()
    Image.fromarray(np.repeat(seg[..., None], 3, 2)).save(path)
    out = LoadMTLAnnotations(only_labeled=False)(
        dict(seg_map_path=path, img=np.zeros((H, W, 3), np.uint8)))
    np.testing.assert_array_equal(out['gt_seg_map'], seg)


def test_label_values_above_255_are_an_error(tmp_path):
    path = str(tmp_path / 'm.png')
    seg = np.zeros((H, W), np.uint16)
    seg[1, 1] = 300
    cv2.imwrite(path, seg)
    with pytest.raises(CorruptSampleError, match='300'):
        LoadMTLAnnotations(only_labeled=False)(
            dict(seg_map_path=path, img=np.zeros((H, W, 3), np.uint8)))


# ---------------------------------------------------------------- depth
def _depth_list(root, write):
    _jpg(osp.join(root, 'rgb', 'r0.jpg'))
    write(osp.join(root, 'depth', 'd0.png'))
    _text(osp.join(root, 'train.txt'), '/rgb/r0.jpg /depth/d0.png 518.8\n')
    return osp.join(root, 'depth', 'd0.png')


def _mm(path, dtype):
    os.makedirs(osp.dirname(path), exist_ok=True)
    mm = np.full((H, W), 2500, np.int64)
    mm[0, 0] = 0
    assert cv2.imwrite(path, np.clip(mm, 0, np.iinfo(dtype).max).astype(
        dtype))


def _dm8(path):
    os.makedirs(osp.dirname(path), exist_ok=True)
    assert cv2.imwrite(path, np.full((H, W), 25, np.uint8))


def test_16bit_mm_depth_png_reads_metres(tmp_path):
    root = str(tmp_path / 'nyu')
    _depth_list(root, lambda p: _mm(p, np.uint16))
    depth = NYUDepthListDataset(data_root=root, pipeline=LOAD)[0]['gt_depth']
    assert depth[0, 0] == 0 and depth[5, 5] == pytest.approx(2.5)


def test_8bit_depth_png_is_an_error_naming_file_and_fix(tmp_path):
    root = str(tmp_path / 'nyu')
    png = _depth_list(root, lambda p: _mm(p, np.uint8))  # 2500 -> 255
    ds = NYUDepthListDataset(data_root=root, pipeline=LOAD)
    with pytest.raises(CorruptSampleError) as err:
        ds[0]
    msg = str(err.value)
    assert png in msg and '8-bit' in msg and '16-bit' in msg
    assert 'allow_8bit_depth=True' in msg
    # skip_invalid turns it into a counted skip (here: every sample)
    ds = NYUDepthListDataset(data_root=root, pipeline=LOAD,
                             skip_invalid=True)
    with pytest.raises(CorruptSampleError, match='every sample'):
        ds[0]
    assert ds.num_skipped == 1


def test_8bit_depth_png_with_explicit_option(tmp_path):
    """A dataset that really stores 8-bit depth (here decimetres)."""
    root = str(tmp_path / 'nyu')
    _depth_list(root, lambda p: _dm8(p))
    load = [dict(type='LoadMTLImageFromFile'),
            dict(type='LoadMTLAnnotations', allow_8bit_depth=True)]
    ds = NYUDepthListDataset(data_root=root, depth_scale=10.0, pipeline=load)
    assert ds[0]['gt_depth'][3, 3] == pytest.approx(2.5)


def test_loader_rejects_inverted_boxes_of_any_dataset():
    """A plugin dataset that hands over xyxy boxes with x2 < x1 is stopped
    at loading, naming the image, the box index and its values."""
    load = LoadMTLAnnotations(only_labeled=False)
    ok = dict(img_path='/data/x.jpg', instances=[
        dict(bbox=[1, 2, 1, 5], bbox_label=0)])  # zero width: kept
    assert load(dict(ok))['gt_bboxes'].tolist() == [[1, 2, 1, 5]]
    bad = dict(img_path='/data/x.jpg', instances=[
        dict(bbox=[1, 2, 6, 5], bbox_label=0),
        dict(bbox=[9, 2, 4, 5], bbox_label=1)])
    with pytest.raises(CorruptSampleError, match=r'/data/x\.jpg.*box 1.*'
                       r'\[9\.0, 2\.0, 4\.0, 5\.0\]'):
        load(bad)
