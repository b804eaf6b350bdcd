"""MTLInferencer and tools/infer.py against tools/test.py: the same
checkpoint on the same images gives the same predictions (compared through
tools/test.py --out's metrics and sample by sample), in the original image
frame; every input form; errors that name the bad input."""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# 50x70 scenes resized to 64x96 (keep ratio -> 64x90) and padded to 32 by
# the model: predictions must be mapped back to 50x70
CONFIG = '''
default_scope = 'mtlbox'
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(type='MTLDataPreprocessor', bgr_to_rgb=True,
                           pad_size_divisor=32),
    backbone=dict(type='ResNet', depth=18, out_indices=(1, 2, 3)),
    neck=dict(type='FPN', in_channels=[128, 256, 512], out_channels=16),
    heads=dict(
        det=dict(type='ATSSDetHead', num_classes=4, in_channels=16,
                 feat_channels=16, strides=(8, 16, 32),
                 anchor_sizes=(12, 24, 48), prior_prob=0.2, score_thr=0.05),
        seg=dict(type='SegHead', in_channels=[16] * 3, num_classes=6,
                 channels=8),
        depth=dict(type='DepthHead', in_channels=[16] * 3, channels=8),
        normal=dict(type='NormalHead', in_channels=[16] * 3, channels=8)))
test_pipeline = [dict(type='MTLResize', scale=(96, 64), keep_ratio=True),
                 dict(type='PackMTLInputs')]
test_dataloader = dict(
    batch_size=2, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='SynthScenes', num_samples=4, img_size=(50, 70), seed=5,
                 tasks=('det', 'seg', 'depth', 'normal'),
                 label_groups=[['det', 'seg', 'depth', 'normal'],
                               ['seg', 'depth']],
                 pipeline=test_pipeline, test_mode=True))
test_evaluator = [dict(type='VOCMetric', task='det', num_classes=4),
                  dict(type='SegMetric', task='seg', num_classes=6),
                  dict(type='DepthMetric', task='depth'),
                  dict(type='NormalMetric', task='normal')]
test_cfg = dict(type='TestLoop')
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
log_level = 'WARNING'
'''


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """The config, a checkpoint of a built model (BatchNorm statistics made
    non-trivial so eval-mode normalisation matters) and the test scenes
    written as PNG files."""
    import mtlbox
    from mmengine.config import Config

    from mtlbox.registry import DATASETS, MODELS
    mtlbox.register_all_modules()
    root = tmp_path_factory.mktemp('infer')
    (root / 'cfg.py').write_text(CONFIG)
    cfg = Config.fromfile(str(root / 'cfg.py'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    torch.save({'state_dict': model.state_dict(), 'meta': {}},
               root / 'ckpt.pth')
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    (root / 'images').mkdir()
    for i in range(len(dataset)):
        cv2.imwrite(str(root / 'images' / f'scene{i}.png'),
                    dataset.render(i)['img'])
    return root, cfg, dataset


@pytest.fixture(scope='module')
def inferencer(setup):
    from mtlbox.apis import MTLInferencer
    root = setup[0]
    return MTLInferencer(str(root / 'cfg.py'), str(root / 'ckpt.pth'),
                         device='cpu', batch_size=2)


def _reference_samples(inferencer, dataset):
    """``model.test_step`` on the dataset's own packed items (the path of
    tools/test.py), batches of two."""
    out = []
    for start in range(0, len(dataset), 2):
        items = [dataset[i] for i in range(start, start + 2)]
        batch = dict(inputs=[d['inputs'] for d in items],
                     data_samples=[d['data_samples'] for d in items])
        with torch.no_grad():
            out += inferencer.model.test_step(batch)
    return out


def test_api_matches_tools_test_out(setup, inferencer):
    """The API's predictions, scored by the config's metrics against the
    dataset's labels, give exactly the numbers tools/test.py --out wrote."""
    from mmengine.evaluator import Evaluator
    root, cfg, dataset = setup
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'test.py'),
         str(root / 'cfg.py'), str(root / 'ckpt.pth'), '--work-dir',
         str(root / 'wd'), '--out', str(root / 'metrics.json'),
         '--no-progress'], cwd=ROOT, capture_output=True, text=True,
        timeout=300, env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    expected = json.loads((root / 'metrics.json').read_text())
    predicted = inferencer.predict_samples(str(root / 'images'))
    assert len(predicted) == len(dataset)
    evaluator = Evaluator(list(cfg.test_evaluator))
    evaluator.dataset_meta = dataset.metainfo
    for i, pred in enumerate(predicted):
        sample = dataset[i]['data_samples']  # labels in the original frame
        for key in pred.keys():
            if key.startswith('pred_'):
                sample.set_field(getattr(pred, key), key)
        evaluator.process([sample])
    got = evaluator.evaluate(len(dataset))
    assert set(expected) <= set(got)
    # not vacuous: boxes were predicted and the maps score above zero (a
    # random model's mAP is 0; its boxes are compared one by one below)
    assert sum(len(p.pred_instances) for p in predicted) > 0
    assert expected['seg/mIoU'] > 0 and expected['depth/abs_rel'] > 0
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-6), key


def test_api_results_in_the_original_frame(setup, inferencer):
    """Element by element equal to the model's own predict path on the
    dataset's items, at the images' 50x70 size (not the 64x90 input)."""
    root, _, dataset = setup
    reference = _reference_samples(inferencer, dataset)
    results = inferencer(str(root / 'images'))
    classes = dataset.metainfo['classes']
    for ref, res in zip(reference, results):
        assert res['ori_shape'] == (50, 70)
        assert res['img_path'].endswith('.png')
        pred = res['predictions']
        boxes = ref.pred_instances
        np.testing.assert_array_equal(pred['det']['bboxes'],
                                      boxes.bboxes.numpy())
        np.testing.assert_array_equal(pred['det']['scores'],
                                      boxes.scores.numpy())
        assert pred['det']['label_names'] == [
            classes[k] for k in boxes.labels.tolist()]
        assert (pred['det']['bboxes'][:, 2] <= 70).all()
        assert pred['seg']['label_map'].shape == (50, 70)
        np.testing.assert_array_equal(pred['seg']['label_map'],
                                      ref.pred_sem_seg.data[0].numpy())
        assert pred['seg']['classes'][:2] == ['floor', 'wall']
        np.testing.assert_array_equal(pred['depth']['depth'],
                                      ref.pred_depth.data[0].numpy())
        normal = pred['normal']['normal']
        assert normal.shape == (50, 70, 3)
        np.testing.assert_allclose(np.linalg.norm(normal, axis=-1), 1,
                                   atol=1e-5)


def test_every_input_form_gives_the_same_prediction(setup, inferencer):
    root = setup[0]
    path = str(root / 'images' / 'scene1.png')
    bgr = cv2.imread(path)
    by_path = inferencer(path)[0]['predictions']
    forms = [bgr, [bgr[..., ::-1].copy()]]
    rgb_inferencer_result = None
    from mtlbox.apis import MTLInferencer
    rgb = MTLInferencer(str(root / 'cfg.py'), str(root / 'ckpt.pth'),
                        device='cpu', color_order='rgb', tasks=['seg'])
    rgb_inferencer_result = rgb(forms[1])[0]['predictions']
    assert list(rgb_inferencer_result) == ['seg']  # only the asked task
    np.testing.assert_array_equal(rgb_inferencer_result['seg']['label_map'],
                                  by_path['seg']['label_map'])
    by_array = inferencer(bgr)[0]
    assert by_array['img_path'] is None
    np.testing.assert_array_equal(by_array['predictions']['depth']['depth'],
                                  by_path['depth']['depth'])
    listed = inferencer([path, str(root / 'images')])
    assert len(listed) == 5
    # a BGR image read as RGB is another image: the channel order matters
    swapped = inferencer(bgr[..., ::-1].copy())[0]['predictions']
    assert not np.array_equal(swapped['depth']['depth'],
                              by_path['depth']['depth'])


def test_bad_inputs_are_named(setup, inferencer, tmp_path):
    from mtlbox.apis import InferenceInputError, MTLInferencer
    from mtlbox.datasets.base import CorruptSampleError
    root = setup[0]
    with pytest.raises(FileNotFoundError, match='nothere.jpg'):
        inferencer(str(tmp_path / 'nothere.jpg'))
    bad = tmp_path / 'broken.png'
    bad.write_bytes(b'not an image at all')
    with pytest.raises(CorruptSampleError, match='broken.png'):
        inferencer(str(bad))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(InferenceInputError, match='no image'):
        inferencer(str(tmp_path / 'empty'))
    with pytest.raises(InferenceInputError, match='float32'):
        inferencer(np.zeros((20, 20, 3), np.float32))
    with pytest.raises(InferenceInputError, match=r'\(3, 20, 20\)'):
        inferencer(np.zeros((3, 20, 20), np.uint8))
    with pytest.raises(KeyError, match="'sal'"):
        MTLInferencer(str(root / 'cfg.py'), None, device='cpu',
                      tasks=['seg', 'sal'])


def _infer_tool():
    spec = importlib.util.spec_from_file_location(
        'mtlbox_infer_tool', osp.join(ROOT, 'tools', 'infer.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_infer_tool_writes_panels_and_json(setup, inferencer, tmp_path):
    root = setup[0]
    tool = _infer_tool()
    out = tmp_path / 'out'
    tool.main([str(root / 'cfg.py'), str(root / 'ckpt.pth'),
               str(root / 'images'), '--out-dir', str(out), '--device',
               'cpu', '--score-thr', '0.0'])
    records = json.loads((out / 'predictions.json').read_text())
    assert [r['panel'] for r in records] == [f'scene{i}.png'
                                             for i in range(4)]
    api = inferencer(str(root / 'images' / 'scene0.png'))[0]['predictions']
    np.testing.assert_allclose(records[0]['predictions']['det']['bboxes'],
                               api['det']['bboxes'], atol=1e-4)
    assert records[0]['predictions']['det']['label_names'] == \
        api['det']['label_names']
    maps = np.load(out / records[0]['maps'])
    np.testing.assert_array_equal(maps['seg.label_map'],
                                  api['seg']['label_map'])
    seg = records[0]['predictions']['seg']
    assert sum(seg['pixels_per_class'].values()) == 50 * 70
    panel = cv2.imread(str(out / 'scene0.png'))
    # one row (no ground truth): input, boxes, seg, depth, normal tiles of
    # 50x70 enlarged to 192x269, the title bar, the legends under the row
    assert panel.shape[1] == 36 + 5 * 269
    assert 18 + 192 < panel.shape[0] < 18 + 2 * 192

    only = tmp_path / 'only'
    tool.main([str(root / 'cfg.py'), str(root / 'ckpt.pth'),
               str(root / 'images' / 'scene0.png'), '--out-dir', str(only),
               '--tasks', 'det,seg', '--device', 'cpu'])
    record = json.loads((only / 'predictions.json').read_text())[0]
    assert sorted(record['predictions']) == ['det', 'seg']
    assert cv2.imread(str(only / 'scene0.png')).shape[1] == 36 + 3 * 269
    with pytest.raises(KeyError, match="'depht'"):
        tool.main([str(root / 'cfg.py'), str(root / 'ckpt.pth'),
                   str(root / 'images'), '--out-dir', str(only), '--tasks',
                   'seg,depht'])
    with pytest.raises(FileNotFoundError, match='missing.png'):
        tool.main([str(root / 'cfg.py'), str(root / 'ckpt.pth'),
                   str(root / 'missing.png'), '--out-dir', str(only)])


def test_pipeline_of_a_partial_dataset_leaves_out_annotations():
    from mtlbox.apis import dataset_metainfo, inference_pipeline
    load = [dict(type='LoadMTLImageFromFile'),
            dict(type='LoadMTLAnnotations')]
    resize = dict(type='MTLResize', scale=(64, 64), keep_ratio=True)
    cfg = dict(type='PartialMTLDataset', pipeline=[dict(type='PackMTLInputs')],
               sources=[dict(type='VOCMTLDataset', source='VOC',
                             pipeline=load + [resize]),
                        dict(type='NYUDepthListDataset', source='NYU',
                             pipeline=load + [resize])])
    steps = inference_pipeline(cfg)
    assert [s['type'] for s in steps] == ['LoadMTLImageFromFile', 'MTLResize',
                                          'PackMTLInputs']
    cfg['sources'][1]['pipeline'] = load
    with pytest.raises(ValueError, match=r"\['VOC', 'NYU'\]"):
        inference_pipeline(cfg)
    assert [s['type'] for s in inference_pipeline(cfg, 'NYU')] == [
        'LoadMTLImageFromFile', 'PackMTLInputs']
    meta = dataset_metainfo(cfg)
    assert meta['sources']['VOC']['classes'][0] == 'aeroplane'
    assert dataset_metainfo(cfg, dict(dataset_meta=dict(classes=('a', )))) \
        == dict(classes=('a', ))


def test_enhanced_image_is_rgb_in_the_original_frame(tmp_path):
    """A residual enhancement head starts at zero, so its prediction is the
    input image itself: RGB in [0, 1] at the image's size, whatever the
    channel order of the array given."""
    from mtlbox.apis import MTLInferencer
    cfg = tmp_path / 'enhance.py'
    cfg.write_text(CONFIG + "model['heads'] = dict(enhance=dict("
                   "type='EnhanceHead', in_channels=[16] * 3, channels=8))\n"
                   "test_dataloader['dataset']['pipeline'] = ["
                   "dict(type='PackMTLInputs')]\n")  # padding only
    image = (np.random.default_rng(0).random((50, 70, 3)) * 255).astype(
        np.uint8)
    for order, as_rgb in (('bgr', image[..., ::-1]), ('rgb', image)):
        inferencer = MTLInferencer(str(cfg), None, device='cpu',
                                   color_order=order)
        pred = inferencer(image)[0]['predictions']['enhance']['image']
        assert pred.shape == (50, 70, 3)
        np.testing.assert_allclose(pred, as_rgb / 255.0, atol=1e-6)
