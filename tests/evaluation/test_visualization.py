"""Panels: colour maps by hand; tools/test.py --show-dir end to end; the
MTLEvaluator inside a Runner test loop."""
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from mtlbox.visualization import (colorize_labels, colorize_normals,
                                  colorize_scalar)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

CONFIG = '''
default_scope = 'mtlbox'
model = dict(
    type='MultiTaskModel',
    backbone=dict(type='ResNet', depth=18, out_indices=(0, 1, 2, 3)),
    neck=dict(type='FPN', in_channels=[64, 128, 256, 512], out_channels=16),
    heads=dict(
        det=dict(type='ATSSDetHead', num_classes=4, in_channels=16,
                 feat_channels=16, in_indices=(1, 2, 3), strides=(8, 16, 32),
                 anchor_sizes=(12, 24, 48)),
        seg=dict(type='SegHead', in_channels=[16] * 4, num_classes=6,
                 channels=8),
        depth=dict(type='DepthHead', in_channels=[16] * 4, channels=8),
        normal=dict(type='NormalHead', in_channels=[16] * 4, channels=8),
        enhance=dict(type='EnhanceHead', in_channels=[16] * 4, channels=8)))
test_dataloader = dict(
    batch_size=2, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='SynthScenes', num_samples=3, img_size=(48, 64), seed=1,
                 tasks=('det', 'seg', 'depth', 'normal', 'enhance'),
                 underwater=True, pipeline=[dict(type='PackMTLInputs')],
                 test_mode=True))
test_evaluator = [dict(type='VOCMetric'), dict(type='SegMetric'),
                  dict(type='DepthMetric'), dict(type='NormalMetric'),
                  dict(type='EnhanceMetric')]
test_cfg = dict(type='TestLoop')
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
log_level = 'WARNING'
'''


def test_colour_maps_by_hand():
    seg = colorize_labels(np.array([[0, 1, 255]]), [(10, 20, 30),
                                                    (40, 50, 60)])
    assert seg.tolist() == [[[10, 20, 30], [40, 50, 60], [0, 0, 0]]]
    n = np.zeros((3, 1, 2))
    n[:, 0, 0] = (0, 0, -1)  # facing the camera -> (127.5, 127.5, 0)
    img = colorize_normals(n)
    assert img[0, 0].tolist() == [128, 128, 0] and img[0, 1].tolist() == [
        0, 0, 0]
    depth = colorize_scalar(np.array([[1.0, 3.0, 0.0]]), (1.0, 3.0),
                            invalid=np.array([[False, False, True]]))
    assert depth[0, 2].tolist() == [0, 0, 0]
    assert depth[0, 0].tolist() != depth[0, 1].tolist()


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    import mtlbox
    from mmengine.config import Config

    from mtlbox.registry import MODELS
    mtlbox.register_all_modules()
    root = tmp_path_factory.mktemp('show')
    (root / 'cfg.py').write_text(CONFIG)
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(root / 'cfg.py')).model)
    torch.save({'state_dict': model.state_dict(), 'meta': {}},
               root / 'ckpt.pth')
    return root


def test_show_dir_writes_panels(checkpoint):
    root = checkpoint
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'test.py'),
           str(root / 'cfg.py'), str(root / 'ckpt.pth'), '--work-dir',
           str(root / 'wd'), '--show-dir', str(root / 'show'), '--out',
           str(root / 'metrics.json')]
    env = dict(__import__('os').environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    names = sorted(p.name for p in (root / 'show').iterdir())
    assert names == ['1_0.png', '1_1.png', '1_2.png']
    panel = cv2.imread(str(root / 'show' / '1_0.png'))
    # 6 tiles (input, boxes, seg, depth, normal, enhance) of 48x64 enlarged
    # to 192x256, two rows, plus the title bar, the side labels and the
    # legends / colour bars under the tiles
    assert panel.shape[1] == 36 + 6 * 256
    assert 2 * 192 + 18 + 30 <= panel.shape[0] <= 2 * 192 + 18 + 60
    footer = panel[18 + 2 * 192:, 36:]
    assert (footer[:, :256] == 255).all()  # input: no key
    assert (footer[:, 2 * 256:3 * 256] != 255).any()  # seg legend
    assert (footer[:, 3 * 256:4 * 256] != 255).any()  # depth colour bar
    metrics = json.loads((root / 'metrics.json').read_text())
    for key in ('det/mAP', 'seg/mIoU', 'depth/silog', 'normal/rmse',
                'enhance/psnr', 'enhance/uiqm'):
        assert key in metrics


def test_mtl_evaluator_in_a_runner(checkpoint, tmp_path):
    from mmengine.config import Config
    from mmengine.runner import Runner
    cfg = Config.fromfile(str(checkpoint / 'cfg.py'))
    cfg.test_evaluator = dict(
        type='MTLEvaluator', metrics=cfg.test_evaluator,
        baselines={'seg/mIoU': 0.5, 'depth/abs_err': 1.0,
                   'enhance/psnr': 20.0})
    cfg.work_dir = str(tmp_path)
    cfg.load_from = str(checkpoint / 'ckpt.pth')
    metrics = Runner.from_cfg(cfg).test()
    rel = [(metrics['seg/mIoU'] - 0.5) / 0.5,
           -(metrics['depth/abs_err'] - 1.0) / 1.0,
           (metrics['enhance/psnr'] - 20.0) / 20.0]
    assert metrics['mtl/delta_m'] == pytest.approx(100 * sum(rel) / 3)
    assert metrics['mtl/amtl_score'] == pytest.approx(
        (metrics['seg/mIoU'] / metrics['depth/abs_err']
         * metrics['enhance/psnr'])**(1 / 3))


# ----------------------------------------------- box labels: class names
VOC_NAMES = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle')


def test_label_text_is_the_class_name():
    from mtlbox.visualization import MTLVisualizer
    assert MTLVisualizer.label_text(3, VOC_NAMES) == 'boat'
    assert MTLVisualizer.label_text(np.int64(0), VOC_NAMES, 0.5) == \
        'aeroplane 0.50'
    # an index the names do not cover (or no names at all) stays a number
    assert MTLVisualizer.label_text(7, VOC_NAMES) == '7'
    assert MTLVisualizer.label_text(1, ()) == '1'


def _capture_texts(monkeypatch):
    from mtlbox.visualization import MTLVisualizer
    drawn = []
    original = MTLVisualizer.draw_texts

    def draw_texts(self, texts, positions, **kwargs):
        drawn.append(list(texts))
        return original(self, texts, positions, **kwargs)

    monkeypatch.setattr(MTLVisualizer, 'draw_texts', draw_texts)
    return drawn


def _det_sample(source=None, with_pred=True):
    from mmengine.structures import InstanceData

    from mtlbox.structures import MTLDataSample
    sample = MTLDataSample(metainfo=dict(
        img_path='/data/VOC2012/JPEGImages/2008_000008.jpg',
        ori_shape=(60, 80), source=source))
    gt = InstanceData()
    gt.bboxes = torch.tensor([[5., 5., 40., 30.], [30., 20., 70., 55.]])
    gt.labels = torch.tensor([0, 3])
    sample.gt_instances = gt
    if with_pred:
        pred = InstanceData()
        pred.bboxes = torch.tensor([[6., 6., 41., 31.]])
        pred.labels = torch.tensor([4])
        pred.scores = torch.tensor([0.9])
        sample.pred_instances = pred
    return sample


def test_draw_panel_labels_boxes_with_class_names(monkeypatch):
    from mtlbox.visualization import MTLVisualizer
    drawn = _capture_texts(monkeypatch)
    vis = MTLVisualizer(name='vis_names_test', classes=VOC_NAMES,
                        score_thr=0.3)
    panel = vis.draw_panel(np.zeros((60, 80, 3), np.uint8), _det_sample())
    assert panel.ndim == 3
    assert drawn == [['bottle 0.90'], ['aeroplane', 'boat']]
    # a per-call label space replaces the visualizer's own
    drawn.clear()
    vis.draw_panel(np.zeros((60, 80, 3), np.uint8), _det_sample(),
                   classes=('holothurian', 'echinus', 'scallop', 'starfish',
                            'fish'))
    assert drawn == [['fish 0.90'], ['holothurian', 'starfish']]


def test_label_space_of_a_partial_dataset():
    from mtlbox.visualization.vis_hook import label_space
    meta = dict(sources=dict(VOC=dict(classes=VOC_NAMES, seg_palette=None),
                             NYU=dict()))
    assert label_space(meta, 'VOC') == (VOC_NAMES, None)
    assert label_space(meta, 'NYU') == ((), None)
    assert label_space(meta, None) == (VOC_NAMES, None)  # the only named
    assert label_space(dict(classes=('a', 'b')), 'DUO') == (('a', 'b'), None)


def test_visualization_hook_uses_the_source_class_names(monkeypatch,
                                                        tmp_path):
    """The hook of tools/test.py --show-dir, given a PartialMTLDataset's
    metainfo (no top-level classes): the VOC sample's boxes carry VOC's
    names, not indices."""
    from types import SimpleNamespace

    from mtlbox.visualization import MTLVisualizationHook
    drawn = _capture_texts(monkeypatch)
    meta = dict(sources=dict(NYU=dict(), VOC=dict(classes=VOC_NAMES)))
    runner = SimpleNamespace(test_dataloader=SimpleNamespace(
        dataset=SimpleNamespace(metainfo=meta)))
    hook = MTLVisualizationHook(show_dir=str(tmp_path / 'show'),
                                score_thr=0.0)
    hook.before_test(runner)
    batch = dict(inputs=[torch.zeros(3, 64, 80, dtype=torch.uint8)])
    hook.after_test_iter(runner, 0, batch, [_det_sample(source='VOC')])
    assert drawn == [['bottle 0.90'], ['aeroplane', 'boat']]
    assert [p.name for p in (tmp_path / 'show').iterdir()] == [
        '2008_000008.png']


def test_panel_names_stay_unique():
    """Office-Home repeats file names across domains and classes; every
    test image still gets its own panel."""
    from mtlbox.visualization.vis_hook import panel_name
    paths = ['/d/office-home/Art/Mug/00001.jpg',
             '/d/office-home/Clipart/Mug/00001.jpg',
             '/d/office-home/Art/Pen/00001.jpg',
             '/d/office-home/Art/Mug/00002.jpg']
    taken = set()
    for k, path in enumerate(paths):
        taken.add(panel_name(dict(img_path=path), k, taken))
    assert taken == {'00001.png', 'Mug_00001.png', 'Pen_00001.png',
                     '00002.png'}
    # the very same path twice: source and index are appended
    name = panel_name(dict(img_path=paths[0], source='Art'), 9,
                      {'00001.png', 'Mug_00001.png', 'Art_Mug_00001.png',
                       'office-home_Art_Mug_00001.png',
                       'd_office-home_Art_Mug_00001.png'})
    assert name == 'd_office-home_Art_Mug_00001_Art_9.png'


def test_input_to_rgb_grey_and_vectors():
    from mtlbox.visualization.vis_hook import input_to_rgb
    grey = torch.arange(6, dtype=torch.uint8).reshape(1, 2, 3)
    rgb = input_to_rgb(grey)
    assert rgb.shape == (2, 3, 3) and (rgb[..., 0] == rgb[..., 2]).all()
    assert rgb[1, 2].tolist() == [5, 5, 5]
    bgr = torch.zeros(3, 2, 2, dtype=torch.uint8)
    bgr[0] = 200  # blue plane of a BGR input
    assert input_to_rgb(bgr)[0, 0].tolist() == [0, 0, 200]
    assert input_to_rgb(torch.zeros(250)) is None  # toy regression vector


# ------------------------------------ legends, colour bars, "no label"
def _seg_depth_sample(with_gt_depth):
    from mmengine.structures import PixelData

    from mtlbox.structures import MTLDataSample
    sample = MTLDataSample(metainfo=dict(ori_shape=(48, 64)))
    seg = torch.zeros(1, 48, 64, dtype=torch.long)
    seg[:, 10:30, 10:40] = 2
    seg[:, 30:] = 5
    sample.pred_sem_seg = PixelData(data=seg)
    sample.gt_sem_seg = PixelData(data=seg.clone())
    sample.pred_depth = PixelData(
        data=torch.linspace(1, 4, 64).repeat(48, 1)[None])
    if with_gt_depth:
        sample.gt_depth = PixelData(data=torch.full((1, 48, 64), 2.0))
    return sample


def test_unlabelled_task_reads_no_label_not_black():
    from mtlbox.visualization import MTLVisualizer
    from mtlbox.visualization.legends import NOTE_GREY
    vis = MTLVisualizer(name='vis_no_label_test')
    panel = vis.draw_panel(np.full((48, 64, 3), 90, np.uint8),
                           _seg_depth_sample(with_gt_depth=False))
    # columns: side 36 | input | seg | depth, tiles 192x256, title bar 18
    gt_depth = panel[18 + 192:18 + 2 * 192, 36 + 2 * 256:36 + 3 * 256]
    assert (gt_depth == 0).mean() < 0.01  # not a black square
    grey = (gt_depth == NOTE_GREY).all(-1).mean()
    assert 0.9 < grey < 1.0  # grey with dark text on it
    assert (gt_depth < 100).all(-1).any()
    labelled = vis.draw_panel(np.full((48, 64, 3), 90, np.uint8),
                              _seg_depth_sample(with_gt_depth=True))
    tile = labelled[18 + 192:18 + 2 * 192, 36 + 2 * 256:36 + 3 * 256]
    assert not (tile == NOTE_GREY).all(-1).any()


def test_seg_legend_and_depth_colour_bar():
    """The legend shows a swatch of exactly the classes drawn (0, 2, 5) in
    the colours of the map; the colour bar spans the depth range."""
    from mtlbox.visualization import MTLVisualizer
    from mtlbox.visualization.colormaps import label_palette
    from mtlbox.visualization.legends import colour_bar, seg_legend
    names = ['floor', 'wall', 'sphere', 'box', 'cylinder', 'pillar']
    colours = label_palette(6)
    legend = seg_legend([5, 0, 2], colours, names, width=256)
    for k in range(6):
        present = (legend == colours[k]).all(-1).sum()
        assert (present >= 64) == (k in (0, 2, 5)), k  # 8x8 swatch inside
    bar = colour_bar((1.0, 4.0), width=256)
    lo = cv2.applyColorMap(np.uint8([[0]]), cv2.COLORMAP_MAGMA)[0, 0, ::-1]
    hi = cv2.applyColorMap(np.uint8([[255]]), cv2.COLORMAP_MAGMA)[0, 0, ::-1]
    assert (bar[8, 6] == lo).all() and (bar[8, 249] == hi).all()
    # in a panel: the legend under the seg tile, the bar under depth
    vis = MTLVisualizer(name='vis_legend_test', seg_classes=names)
    panel = vis.draw_panel(np.full((48, 64, 3), 90, np.uint8),
                           _seg_depth_sample(with_gt_depth=True))
    footer = panel[18 + 2 * 192:, 36:]
    seg_key = footer[:, 256:512]
    assert (seg_key == colours[5]).all(-1).sum() >= 64
    assert not (seg_key == colours[1]).all(-1).any()
    depth_key = footer[:, 512:768]
    assert (depth_key == lo).all(-1).any() and (depth_key == hi).all(-1).any()
