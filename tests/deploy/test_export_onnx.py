"""tools/deploy/export_onnx.py: the ONNX graph run in onnxruntime matches
PyTorch to 1e-4 on every head's raw output, for the demo model and the AMTL
synth model, at another batch and image size than the traced one; decoding
the ONNX outputs in Python gives the model's own predictions."""
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest
import torch

pytest.importorskip('onnxruntime')
pytest.importorskip('onnx')

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'configs', 'synth', 'hps_r18_ew_synth.py')
AMTL = osp.join(ROOT, 'configs', 'synth', 'amtl_r18_det_seg_depth_synth.py')


def _tool():
    spec = importlib.util.spec_from_file_location(
        'mtlbox_export_tool',
        osp.join(ROOT, 'tools', 'deploy', 'export_onnx.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _checkpoint(config, path):
    """A built model's state, BatchNorm statistics made non-trivial (eval
    mode must use them in both graphs)."""
    import mtlbox
    from mmengine.config import Config

    from mtlbox.registry import MODELS
    mtlbox.register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config).model)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return str(path)


def _synth_images():
    """Two SynthScenes renders of different sizes than the traced input."""
    from mtlbox.datasets import SynthScenes
    return [SynthScenes(num_samples=1, img_size=size, seed=9).render(0)['img']
            for size in ((120, 150), (100, 170))]


def _check(config, ckpt, onnx_path, expected_names):
    from mtlbox.apis import MTLInferencer, decode_raw_outputs
    from mtlbox.apis.export import onnx_outputs
    inferencer = MTLInferencer(config, ckpt, device='cpu', batch_size=2)
    batch = inferencer.preprocess(_synth_images())[0]
    inputs = batch['inputs']
    assert tuple(inputs.shape) == (2, 3, 128, 192)  # padded to 32
    got = onnx_outputs(onnx_path, inputs)
    assert list(got) == expected_names
    with torch.no_grad():
        ref = inferencer.network(inputs)
    diffs = {name: float(np.abs(got[name] - r.numpy()).max())
             for name, r in zip(inferencer.network.output_names, ref)}
    print(f'\n{osp.basename(config)} max |onnxruntime - PyTorch|:',
          json.dumps({k: float(f'{v:.3g}') for k, v in diffs.items()}))
    assert max(diffs.values()) < 1e-4, diffs
    # the Python post-processing of the ONNX outputs == model.predict
    samples = decode_raw_outputs(inferencer.model, got,
                                 [s.clone() for s in batch['data_samples']],
                                 inputs)
    with torch.no_grad():
        reference = inferencer.model.predict(inputs, batch['data_samples'])
    for s, r in zip(samples, reference):
        for key in r.keys():
            if not key.startswith('pred_'):
                continue
            if key == 'pred_instances':
                n = min(len(s.pred_instances), len(r.pred_instances), 50)
                assert n > 0
                np.testing.assert_allclose(s.pred_instances.bboxes[:n],
                                           r.pred_instances.bboxes[:n],
                                           atol=1e-2)
                continue
            a, b = getattr(s, key).data, getattr(r, key).data
            assert a.shape == b.shape
            if key == 'pred_sem_seg':  # argmax: ties may flip a pixel
                assert (a != b).float().mean() < 1e-3
            else:
                np.testing.assert_allclose(a, b, atol=1e-4)
    return inferencer, inputs


def test_amtl_synth_model_export(tmp_path):
    """The detection model through the legacy tracer (10x faster to export
    than dynamo on this model; the demo test covers the default)."""
    ckpt = _checkpoint(AMTL, tmp_path / 'amtl.pth')
    out = tmp_path / 'amtl.onnx'
    _tool().main([AMTL, ckpt, '--out', str(out), '--shape', '96', '128',
                  '--exporter', 'torchscript', '--no-check'])
    import onnx
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    names = [f'det.{b}.{lv}' for b in ('cls', 'reg') for lv in range(3)] + [
        'seg', 'depth']
    assert json.loads(meta['mtlbox.output_names']) == names
    assert meta['mtlbox.pad_size_divisor'] == '32'
    torch_inferencer, _ = _check(AMTL, ckpt, str(out), names)
    # the inferencer runs the ONNX file with the same pre/post-processing
    from mtlbox.apis import MTLInferencer
    images = _synth_images()
    via_onnx = MTLInferencer(AMTL, str(out), device='cpu',
                             batch_size=2)(images)
    via_torch = torch_inferencer(images)
    for a, b in zip(via_onnx, via_torch):
        np.testing.assert_allclose(a['predictions']['depth']['depth'],
                                   b['predictions']['depth']['depth'],
                                   atol=1e-4)
        n = min(len(a['predictions']['det']['scores']), 20)
        np.testing.assert_allclose(a['predictions']['det']['scores'][:n],
                                   b['predictions']['det']['scores'][:n],
                                   atol=1e-4)


def test_demo_model_dynamo_export_and_torchscript(tmp_path):
    """The default exporter (dynamo), and the TorchScript file."""
    ckpt = _checkpoint(DEMO, tmp_path / 'demo.pth')
    out, ts = tmp_path / 'demo.onnx', tmp_path / 'demo.pt'
    # no tool check: _check below runs another batch and image size
    _tool().main([DEMO, ckpt, '--out', str(out), '--torchscript', str(ts),
                  '--shape', '96', '128', '--no-check'])
    inferencer, inputs = _check(DEMO, ckpt, str(out),
                                ['seg', 'depth', 'normal'])
    extra = {'mtlbox.json': ''}
    module = torch.jit.load(str(ts), _extra_files=extra)
    assert json.loads(json.loads(extra['mtlbox.json'])[
        'mtlbox.output_names']) == ['seg', 'depth', 'normal']
    with torch.no_grad():
        traced = module(inputs)
        ref = inferencer.network(inputs)
    for a, b in zip(traced, ref):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=0)
