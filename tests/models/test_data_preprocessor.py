import torch
from mmengine.structures import PixelData

from mtlbox.models import MTLDataPreprocessor
from mtlbox.structures import MTLDataSample


def _sample(h, w, tasks):
    s = MTLDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                                    labeled_tasks=tasks))
    if 'seg' in tasks:
        s.gt_sem_seg = PixelData(data=torch.ones(1, h, w, dtype=torch.long))
    if 'depth' in tasks:
        s.gt_depth = PixelData(data=torch.full((1, h, w), 2.0))
    if 'normal' in tasks:
        s.gt_normal = PixelData(data=torch.ones(3, h, w))
    if 'enhance' in tasks:
        clean = torch.zeros(3, h, w, dtype=torch.uint8)
        clean[0] = 255  # BGR: blue channel
        s.gt_clean_img = PixelData(data=clean)
    return s


def test_normalise_pad_and_dense_targets():
    pre = MTLDataPreprocessor(mean=(10, 20, 30), std=(2, 4, 5),
                              pad_size_divisor=8, bgr_to_rgb=True)
    img = torch.zeros(3, 5, 6, dtype=torch.uint8)
    img[0] = 30  # B channel in BGR
    img[2] = 10  # R channel
    data = dict(inputs=[img, torch.zeros(3, 7, 3, dtype=torch.uint8)],
                data_samples=[_sample(5, 6, ['seg', 'depth', 'normal',
                                             'enhance']),
                              _sample(7, 3, ['depth'])])
    out = pre(data, training=True)
    x = out['inputs']
    assert x.shape == (2, 3, 8, 8)
    # RGB order after conversion: R=(10-10)/2, G=(0-20)/4, B=(30-30)/5
    assert x[0, 0, 0, 0] == 0 and x[0, 1, 0, 0] == -5 and x[0, 2, 0, 0] == 0
    s0, s1 = out['data_samples']
    assert s0.batch_input_shape == (8, 8)
    seg = s0.gt_sem_seg.data
    assert seg.shape == (1, 8, 8)
    assert (seg[:, :5, :6] == 1).all() and (seg[:, 5:, :] == 255).all()
    assert (seg[:, :, 6:] == 255).all()
    depth = s1.gt_depth.data
    assert (depth[:, :7, :3] == 2).all() and (depth[:, :, 3:] == 0).all()
    normal = s0.gt_normal.data
    assert (normal[:, 5:] == 0).all() and (normal[:, :5, :6] == 1).all()
    clean = s0.gt_clean_img.data
    assert clean.dtype == torch.float32 and clean.shape == (3, 8, 8)
    assert clean[2, 0, 0] == 1.0 and clean[0, 0, 0] == 0.0  # now RGB, [0,1]
    assert 'gt_sem_seg' not in s1  # absent labels stay absent


def test_eval_mode_keeps_ground_truth_unpadded():
    pre = MTLDataPreprocessor(pad_size_divisor=8)
    data = dict(inputs=[torch.zeros(3, 5, 6, dtype=torch.uint8)],
                data_samples=[_sample(5, 6, ['seg'])])
    out = pre(data, training=False)
    assert out['inputs'].shape[-2:] == (8, 8)
    assert out['data_samples'][0].gt_sem_seg.data.shape == (1, 5, 6)
