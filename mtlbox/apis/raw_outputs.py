"""The network part of a :class:`MultiTaskModel` as one graph of named raw
tensors, and the Python decoding that turns them into predictions.

Deployment splits inference in three:

1. **pre-processing** (Python, :meth:`MTLInferencer.preprocess`): the
   config's test pipeline (resize, pad ...) and the model's data
   preprocessor (BGR -> RGB, ``(x - mean) / std``, zero padding bottom/right
   to ``pad_size_divisor``) give ``inputs`` [B, 3, H, W] float32 and one
   :class:`MTLDataSample` per image holding the geometry (``ori_shape``,
   ``img_shape``, ``scale_factor``, ``flip``, ``batch_input_shape``);
2. **the graph** (:class:`RawOutputModel`; ONNX / TorchScript):
   ``inputs -> backbone -> neck -> architecture -> heads``, returning every
   head's raw tensors under the names of :func:`raw_output_names`;
3. **post-processing** (Python, :func:`decode_raw_outputs`): each head's own
   ``predict`` decoding run on its raw tensors: box decode + NMS for
   detection, bilinear resize to the original image then argmax /
   activation for dense tasks, softmax for classification.

Output names: a head returning one tensor gives ``<task>`` (dense heads:
[B, C, H/s, W/s] at the decoder's stride ``s``, before any upsampling;
classification heads: [B, C] logits); :class:`ATSSDetHead` gives
``<task>.cls.<level>`` [B, A*C, H_l, W_l] (logits), ``<task>.reg.<level>``
[B, A*4, H_l, W_l] (SSD deltas) and, with ``centerness=True``,
``<task>.ctr.<level>`` [B, A, H_l, W_l] (centre-ness logits), as its
``raw_output_names`` say; any other nested output gives
``<task>.<i>[.<j>]`` by position. A plugin head may name the members of its
top-level tuple with a ``raw_output_names`` attribute.
"""
from contextlib import contextmanager
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor, nn

Raw = Union[Tensor, Sequence['Raw']]


def _member_names(head) -> Optional[Tuple[str, ...]]:
    """Names of the members of a head's top-level output tuple."""
    names = getattr(head, 'raw_output_names', None)
    return None if names is None else tuple(names)


def flatten_raw(task: str, raw: Raw, head=None) -> List[Tuple[str, Tensor]]:
    """``[(name, tensor)]`` of one head's raw output (module docstring)."""
    if isinstance(raw, Tensor):
        return [(task, raw)]
    members = _member_names(head)
    out = []
    for i, member in enumerate(raw):
        key = members[i] if members is not None else str(i)
        if isinstance(member, Tensor):
            out.append((f'{task}.{key}', member))
            continue
        for j, leaf in enumerate(member):
            if not isinstance(leaf, Tensor):
                raise TypeError(f'head of task {task!r} returns a raw output '
                                'nested deeper than two levels; give it a '
                                'flat tuple or list of tensors')
            out.append((f'{task}.{key}.{j}', leaf))
    return out


def unflatten_raw(model, raw: Mapping[str, Union[Tensor, np.ndarray]],
                  tasks: Optional[Sequence[str]] = None) -> Dict[str, Raw]:
    """``{task: raw output as the head returns it}`` from the named tensors
    of :func:`flatten_raw` (numpy arrays become tensors). ``tasks``:
    those to rebuild (default: every task with an output in ``raw``)."""
    grouped: Dict[str, Dict[str, Tensor]] = {}
    for name, value in raw.items():
        task = name.split('.', 1)[0]
        if task not in model.heads:
            raise KeyError(f'raw output {name!r} names no task of the model '
                           f'(tasks: {list(model.heads)})')
        grouped.setdefault(task, {})[name] = torch.as_tensor(value)
    if tasks is None:
        tasks = [t for t in model.tasks if t in grouped]
    out = {}
    for task in tasks:
        if task not in grouped:
            raise KeyError(f'no raw output of task {task!r} (outputs: '
                           f'{sorted(raw)})')
        values = grouped[task]
        if task in values:
            out[task] = values[task]
            continue
        members = _member_names(model.heads[task])
        tree: Dict[str, Dict[int, Tensor]] = {}
        for name, value in values.items():
            parts = name.split('.')
            leaf = int(parts[2]) if len(parts) > 2 else None
            tree.setdefault(parts[1], {})[leaf] = value
        keys = list(members) if members is not None else sorted(tree, key=int)
        rebuilt = []
        for key in keys:
            node = tree[key]
            rebuilt.append(node[None] if None in node else
                           [node[j] for j in sorted(node)])
        out[task] = tuple(rebuilt)
    return out


class RawOutputModel(nn.Module):
    """``inputs [B, 3, H, W] -> tuple of raw head tensors``, the part of a
    :class:`MultiTaskModel` that runs as one graph (ONNX / TorchScript).

    ``inputs`` is what the model's data preprocessor makes: RGB (when the
    preprocessor converts BGR), normalised, padded. It wraps the model's
    own parts (``extract_feat``, ``architecture``, ``heads``), so it shares
    their weights. :attr:`output_names` lists the names of the returned
    tensors in order (known after the first call; see
    :func:`raw_output_names`).

    Args:
        model: a built :class:`MultiTaskModel` (put it in ``eval()``).
        tasks: the heads to run (default: all; the architecture computes
            only their features).
    """

    def __init__(self, model, tasks: Optional[Sequence[str]] = None):
        super().__init__()
        self.model = model
        self.tasks = list(tasks or model.tasks)
        self.output_names: List[str] = []

    def raw(self, inputs: Tensor) -> Dict[str, Raw]:
        """``{task: raw output}`` (the structure each head returns)."""
        model = self.model
        feats = model.architecture(model.extract_feat(inputs), self.tasks)
        return {task: model.heads[task](feats[task]) for task in self.tasks}

    def forward(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        named = []
        for task, raw in self.raw(inputs).items():
            named += flatten_raw(task, raw, self.model.heads[task])
        self.output_names = [name for name, _ in named]
        return tuple(tensor for _, tensor in named)


def raw_output_names(wrapper: RawOutputModel,
                     inputs: Optional[Tensor] = None) -> List[str]:
    """The output names of ``wrapper`` (one forward on ``inputs``, default
    a zero 1x3x64x64 batch, when not yet known)."""
    if not wrapper.output_names:
        if inputs is None:
            inputs = torch.zeros(1, 3, 64, 64)
        with torch.no_grad():
            wrapper(inputs)
    return list(wrapper.output_names)


@contextmanager
def replaying(head: nn.Module, raw: Raw):
    """Within the block, calling ``head`` returns ``raw`` instead of running
    its layers: ``head.predict`` then decodes given raw outputs with exactly
    the code of a normal forward (an instance attribute shadows the class's
    ``forward``)."""
    head.forward = lambda *args, **kwargs: raw
    try:
        yield head
    finally:
        del head.forward


@torch.no_grad()
def decode_raw_outputs(model, raw: Mapping[str, Union[Tensor, np.ndarray]],
                       data_samples: list, inputs: Optional[Tensor] = None,
                       tasks: Optional[Sequence[str]] = None) -> list:
    """Fill ``pred_*`` of ``data_samples`` from named raw outputs (of
    :class:`RawOutputModel`, an ONNX session or a TorchScript module), in
    each sample's original image frame, with each head's own decoding:

    - :class:`ATSSDetHead`: anchors of every level at its stride, scores
      ``sigmoid(cls)`` (x ``sigmoid(ctr)`` with a centre-ness branch),
      boxes = SSD decode of ``reg`` (centre offsets x ``variances[0]`` x
      anchor size, sizes ``exp(d x variances[1])``),
      :func:`~mtlbox.models.heads.postprocess_detections` (score threshold,
      ``nms_pre``, class-wise NMS, per-class and per-image caps), then clip
      to ``img_shape``, unflip, divide by ``scale_factor``;
    - dense heads (:class:`BaseDenseHead`): bilinear upsampling to
      ``batch_input_shape``, crop to ``img_shape``, bilinear resize to
      ``ori_shape``, the head's ``postprocess`` (seg / parts: argmax; depth:
      ``softplus + min_depth``; normals: L2 normalisation; enhancement:
      ``clamp(input + r, 0, 1)``; saliency / edges: sigmoid), unflip;
    - :class:`ClsHead`: softmax (sigmoid when multi-label) and argmax.

    ``data_samples`` need the meta information of pre-processing
    (``img_shape``, ``ori_shape``, ``scale_factor``, ``flip``,
    ``batch_input_shape``); ``inputs`` (the pre-processed batch) is needed
    by heads that read the input image (a residual :class:`EnhanceHead`).
    Returns ``data_samples``.
    """
    per_task = unflatten_raw(model, raw, tasks)
    cache = {}
    device = next(iter(model.parameters())).device
    for task, out in per_task.items():
        head = model.heads[task]
        out = _to(out, device)
        kwargs = {}
        if getattr(head, 'needs_input_image', False):
            if inputs is None:
                raise ValueError(f'the head of task {task!r} reads the input '
                                 'image; pass inputs= (the pre-processed '
                                 'batch) to decode_raw_outputs')
            kwargs = model.head_kwargs(head, torch.as_tensor(inputs).to(
                device), cache)
        with replaying(head, out):
            head.predict(None, data_samples, **kwargs)
    return data_samples


def _to(raw: Raw, device) -> Raw:
    if isinstance(raw, Tensor):
        return raw.to(device)
    return type(raw)(_to(r, device) for r in raw)
