"""Local pretrained weights: never a download, always a clear error."""
import os.path as osp
from typing import Callable, Optional, Sequence

import torch
from torch import nn


class PretrainedWeightsError(KeyError):
    """A pretrained file does not fit the module it is loaded into."""

    def __str__(self):  # KeyError would repr() the message
        return str(self.args[0])


def _read_state_dict(path: str) -> dict:
    if not osp.isfile(path):
        raise FileNotFoundError(
            f"init_cfg checkpoint='{path}' not found; mtlbox never downloads "
            'weights: save the torchvision state dict there (e.g. torch.save('
            'torchvision.models.resnet50(weights=...).state_dict(), PATH) on '
            'a machine with the weights) or remove init_cfg')
    state = torch.load(path, map_location='cpu', weights_only=True)
    if isinstance(state, dict) and 'state_dict' in state:
        state = state['state_dict']  # mmengine checkpoint
    if not isinstance(state, dict):
        raise PretrainedWeightsError(
            f'{path} holds a {type(state).__name__}, not a state dict; save '
            'model.state_dict(), not the model object')
    return state


def load_pretrained(module: nn.Module,
                    path: str,
                    prefix: Optional[str] = None,
                    convert: Callable[[str], str] = lambda k: k,
                    ignored_prefixes: Sequence[str] = ()) -> None:
    """Load the state dict in ``path`` into ``module`` (strictly).

    Accepted files: a plain state dict (torchvision format) or an mmengine
    checkpoint (``{'state_dict': ...}``). With ``prefix`` (e.g.
    ``'backbone.'``) only keys under it are used, with it stripped; when
    ``prefix`` is None and every module key is missing but keys start with
    ``backbone.``, that prefix is used (a whole-model mmengine checkpoint).

    Keys are renamed by ``convert``; keys starting with one of
    ``ignored_prefixes`` (classifier, truncated layers) are dropped. Any
    other unexpected key, any missing key, or a shape mismatch raises
    :class:`PretrainedWeightsError` naming the first offending keys.
    """
    state = _read_state_dict(path)
    own = module.state_dict()
    if prefix is None and not any(k in own for k in state) and any(
            k.startswith('backbone.') for k in state):
        prefix = 'backbone.'
    if prefix:
        state = {k[len(prefix):]: v for k, v in state.items()
                 if k.startswith(prefix)}
    renamed = {}
    for key, value in state.items():
        if any(key.startswith(p) for p in ignored_prefixes):
            continue
        renamed[convert(key)] = value
    missing = [k for k in own if k not in renamed
               and not k.endswith('num_batches_tracked')]
    unexpected = [k for k in renamed if k not in own]
    where = type(module).__name__
    if missing or unexpected:
        raise PretrainedWeightsError(
            f'{path} does not fit {where}: {len(missing)} missing keys '
            f'(e.g. {missing[:3]}), {len(unexpected)} unexpected keys (e.g. '
            f'{unexpected[:3]}). Is it a torchvision state dict of the same '
            "architecture (arch/depth)? For a whole-model checkpoint set "
            "init_cfg=dict(type='Pretrained', checkpoint=..., "
            "prefix='backbone.').")
    bad = [(k, tuple(v.shape), tuple(own[k].shape))
           for k, v in renamed.items()
           if tuple(v.shape) != tuple(own[k].shape)]
    if bad:
        raise PretrainedWeightsError(
            f'{path} does not fit {where}: shape mismatch for {len(bad)} keys,'
            f' e.g. {bad[0][0]} is {bad[0][1]} in the file but {bad[0][2]} in'
            ' the model; check the architecture variant')
    module.load_state_dict(renamed, strict=False)
