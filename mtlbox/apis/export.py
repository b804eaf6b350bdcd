"""Export the network of a multi-task model (:class:`RawOutputModel`) to
ONNX and TorchScript, and check an ONNX file against PyTorch.

The graph's input is ``inputs`` [B, 3, H, W] float32, the output of the
model's data preprocessor (see :mod:`mtlbox.apis.raw_outputs` for the
pre- and post-processing that stay in Python); batch, height and width are
dynamic (height and width multiples of the preprocessor's
``pad_size_divisor``, which it pads to). The outputs are named
``<task>[.<member>.<level>]`` (:func:`raw_output_names`).
"""
import json
from typing import Dict, List, Optional

import numpy as np
import torch

from .raw_outputs import RawOutputModel, raw_output_names

EXPORTERS = ('dynamo', 'torchscript')


def size_divisor(model) -> int:
    """What the data preprocessor pads height and width to a multiple of."""
    return max(int(getattr(model.data_preprocessor, 'pad_size_divisor', 1)
                   or 1), 1)


def graph_metadata(wrapper: RawOutputModel, config_name: str = '') -> dict:
    """Key-value strings stored with an exported graph: what a deployment
    needs to reproduce the pre-processing and name the outputs."""
    pre = wrapper.model.data_preprocessor
    mean = getattr(pre, 'mean', None)
    std = getattr(pre, 'std', None)
    return {
        'mtlbox.config': config_name,
        'mtlbox.tasks': json.dumps(wrapper.tasks),
        'mtlbox.output_names': json.dumps(raw_output_names(wrapper)),
        'mtlbox.mean': json.dumps(None if mean is None else
                                  mean.flatten().tolist()),
        'mtlbox.std': json.dumps(None if std is None else
                                 std.flatten().tolist()),
        'mtlbox.bgr_to_rgb': json.dumps(bool(getattr(pre, 'bgr_to_rgb',
                                                     False))),
        'mtlbox.pad_size_divisor': str(size_divisor(wrapper.model)),
    }


def export_onnx(wrapper: RawOutputModel, inputs: torch.Tensor, path: str,
                exporter: str = 'dynamo', opset: Optional[int] = None,
                metadata: Optional[dict] = None) -> List[str]:
    """Write ``wrapper`` as one ONNX graph to ``path`` (weights inside the
    file) with dynamic batch, height and width; returns the output names.

    ``exporter='dynamo'`` (default): ``torch.export`` with symbolic shapes
    (height and width ``pad_size_divisor * k``), so shape-dependent code
    (a neck that resizes only when two levels differ) stays correct at
    every size. ``'torchscript'``: the legacy tracer, faster but it
    records the branches taken for ``inputs``' size. ``inputs``: an example
    batch (use two or more images: a batch of one may be specialised).
    """
    if exporter not in EXPORTERS:
        raise ValueError(f'exporter={exporter!r}: use one of {EXPORTERS}')
    wrapper.eval()
    names = raw_output_names(wrapper, inputs)
    if exporter == 'dynamo':
        from torch.export import Dim
        div = size_divisor(wrapper.model)
        h, w = inputs.shape[-2:]
        if h % div or w % div:
            raise ValueError(f'example inputs {tuple(inputs.shape)}: height '
                             f'and width must be multiples of {div}')
        hd = Dim('height_blocks', min=1, max=4096 // div)
        wd = Dim('width_blocks', min=1, max=4096 // div)
        shapes = {'inputs': {0: Dim('batch', min=1, max=1024),
                             2: hd * div if div > 1 else hd,
                             3: wd * div if div > 1 else wd}}
        torch.onnx.export(wrapper, (inputs, ), path, input_names=['inputs'],
                          output_names=names, dynamic_shapes=shapes,
                          opset_version=opset, external_data=False,
                          dynamo=True, verbose=False)
    else:
        axes = {'inputs': {0: 'batch', 2: 'height', 3: 'width'}}
        torch.onnx.export(wrapper, (inputs, ), path, input_names=['inputs'],
                          output_names=names, dynamic_axes=axes,
                          opset_version=opset or 17, dynamo=False)
    if metadata:
        import onnx
        model = onnx.load(path)
        for key, value in metadata.items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, str(value)
        onnx.save(model, path)
    return names


def export_torchscript(wrapper: RawOutputModel, inputs: torch.Tensor,
                       path: str, metadata: Optional[dict] = None
                       ) -> List[str]:
    """``torch.jit.trace`` of ``wrapper`` saved to ``path``; the output
    names (and ``metadata``) go in the archive's extra file
    ``mtlbox.json``. Traced: code that branches on shapes keeps the branch
    of ``inputs``' size."""
    wrapper.eval()
    names = raw_output_names(wrapper, inputs)
    with torch.no_grad():
        traced = torch.jit.trace(wrapper, (inputs, ), check_trace=False)
    extra = dict(metadata or {})
    extra['mtlbox.output_names'] = json.dumps(names)
    torch.jit.save(traced, path,
                   _extra_files={'mtlbox.json': json.dumps(extra)})
    return names


def onnx_outputs(path: str, inputs) -> Dict[str, np.ndarray]:
    """``{output name: array}`` of the ONNX file run by onnxruntime (CPU)."""
    import onnxruntime as ort
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    names = [o.name for o in session.get_outputs()]
    values = session.run(names, {'inputs': np.asarray(
        inputs.detach().cpu() if torch.is_tensor(inputs) else inputs,
        np.float32)})
    return dict(zip(names, values))


def max_abs_difference(path: str, wrapper: RawOutputModel,
                       inputs: torch.Tensor) -> Dict[str, float]:
    """``{output name: max |onnxruntime - PyTorch|}`` on ``inputs``."""
    got = onnx_outputs(path, inputs)
    with torch.no_grad():
        ref = wrapper(inputs)
    out = {}
    for name, value in zip(wrapper.output_names, ref):
        if name not in got:
            raise KeyError(f'{path} has no output {name!r} (outputs: '
                           f'{sorted(got)})')
        out[name] = float(np.abs(got[name] - value.cpu().numpy()).max())
    return out
