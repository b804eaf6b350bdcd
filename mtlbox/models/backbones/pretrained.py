"""Local pretrained weights: never a download, always a clear error."""
import os
import os.path as osp
from typing import Callable, Optional, Sequence

import torch
from torch import nn


class PretrainedWeightsError(KeyError):
    """A pretrained file does not fit the module it is loaded into."""

    def __str__(self):  # KeyError would repr() the message
        return str(self.args[0])


def torchvision_weights_path(weights: str, must_exist: bool = False) -> str:
    """Where torchvision keeps the file of a weight enum member:
    ``$TORCH_HOME/hub/checkpoints/<basename of Weights.url>`` (``TORCH_HOME``
    defaults to ``$XDG_CACHE_HOME/torch``, i.e. ``~/.cache/torch``; this is
    ``torch.hub.get_dir()``, where ``torchvision.models.resnet50(
    weights=...)`` saves what it downloads). Nothing is downloaded.

    Args:
        weights: ``'<Enum>.<member>'``, e.g.
            ``'EfficientNet_V2_S_Weights.IMAGENET1K_V1'``.
        must_exist: raise ``FileNotFoundError`` naming the path and the URL
            when the file is not there.
    """
    import torch.hub
    import torchvision
    try:
        enum = torchvision.models.get_weight(str(weights))
    except (ValueError, KeyError, AttributeError) as err:
        raise ValueError(
            f'weights={weights!r} is not a torchvision weight enum member; '
            "write it as torchvision names it, e.g. "
            "'EfficientNet_V2_S_Weights.IMAGENET1K_V1' or "
            f"'ResNet50_Weights.IMAGENET1K_V2' ({err})") from None
    path = osp.join(torch.hub.get_dir(), 'checkpoints',
                    osp.basename(enum.url))
    if must_exist and not osp.isfile(path):
        home = os.environ.get('TORCH_HOME')
        raise FileNotFoundError(
            f'weights={weights!r}: {path} not found (TORCH_HOME='
            f'{home or "unset, ~/.cache/torch"}). mtlbox never downloads: '
            f'put torchvision\'s file there ({enum.url}, e.g. copied from '
            'the same path of a machine that has run torchvision with these '
            "weights), set TORCH_HOME to the folder that holds "
            "hub/checkpoints/, or use init_cfg=dict(type='Pretrained', "
            'checkpoint=PATH)')
    return path


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
