"""The staged-backbone interface shared by mtlbox's backbones.

A *staged* backbone is a chain ``stem -> stage 0 -> stage 1 -> ...``: the
output of one stage is the input of the next. ``forward`` returns the outputs
of the stages in ``out_indices`` (finest first). Sharing architectures that
need per-task copies of the trunk (Cross-stitch, NDDR-CNN) run the chain
stage by stage through :meth:`StagedBackbone.stage_modules`.
"""
import contextlib
from typing import List, Optional, Sequence

from mmengine.model import BaseModule
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from .pretrained import load_pretrained, torchvision_weights_path


@contextlib.contextmanager
def _running_stats_kept(module: nn.Module):
    """BatchNorm running statistics as they were on entry, on exit."""
    norms = [m for m in module.modules()
             if isinstance(m, nn.modules.batchnorm._BatchNorm)
             and m.training and m.track_running_stats]
    saved = [(m.running_mean.clone(), m.running_var.clone(),
              m.num_batches_tracked.clone()) for m in norms]
    try:
        yield
    finally:
        for m, (mean, var, count) in zip(norms, saved):
            m.running_mean.copy_(mean)
            m.running_var.copy_(var)
            m.num_batches_tracked.copy_(count)


def checkpoint_call(module: nn.Module, *args):
    """``module(*args)`` under activation checkpointing
    (``torch.utils.checkpoint``, ``use_reentrant=False``): only the inputs
    are kept for the backward pass, the activations inside ``module`` are
    recomputed then. Outside training or without gradients it is a plain
    call. The recomputation restores the BatchNorm running statistics it
    moves, so they are updated once per step as without checkpointing; the
    random state is replayed (dropout, stochastic depth), so loss and
    gradients equal those of ``module(*args)``."""
    import torch
    if not (torch.is_grad_enabled()
            and any(m.training for m in module.modules())):
        return module(*args)
    calls = []

    def run(*inputs):
        if not calls:  # the forward pass
            calls.append(1)
            return module(*inputs)
        with _running_stats_kept(module):  # the recomputation
            return module(*inputs)

    return checkpoint(run, *args, use_reentrant=False)


def maybe_checkpoint(module: nn.Module, x, with_cp: bool):
    """``checkpoint_call(module, x)`` when ``with_cp``, else ``module(x)``."""
    return checkpoint_call(module, x) if with_cp else module(x)


class StagedBackbone(BaseModule):
    """Base class: ``stem`` followed by ``num_stages`` stages.

    Subclasses build their layers, then set ``stage_channels`` (channels of
    the stem output and of each stage output, stem first) and call
    :meth:`_setup`. They implement :meth:`stage_modules`.

    Stages after the last index in ``out_indices`` are not built; their
    keys in a pretrained file are ignored.

    Attributes:
        out_indices: stages returned by ``forward`` (0 = first stage after
            the stem).
        out_channels: channels of the returned maps.
        stage_channels: ``[stem, stage 0, stage 1, ...]`` output channels.
        frozen_stages: ``-1`` freezes nothing, ``0`` the stem, ``k`` the stem
            and stages ``0..k-1``; frozen parts stay in eval mode.
        norm_eval: keep every BatchNorm in eval mode while training.

    ``init_cfg=dict(type='Pretrained', checkpoint=PATH)`` loads a local state
    dict (torchvision or an mmengine checkpoint; see
    :func:`~mtlbox.models.backbones.pretrained.load_pretrained`).
    Backbones over torchvision models also take ``weights='<torchvision
    weight enum>'`` (``'ResNet50_Weights.IMAGENET1K_V2'``): the file in
    torchvision's cache, ``$TORCH_HOME/hub/checkpoints/<its file name>``
    (:func:`~mtlbox.models.backbones.pretrained.torchvision_weights_path`),
    never downloaded.

    ``with_cp=True`` (set by subclasses through :meth:`_setup`) runs each
    block of the stem and stages under activation checkpointing
    (:func:`checkpoint_call`): less memory for one more forward pass.
    """

    #: keys of a full torchvision state dict that the backbone drops
    #: (classifier, truncated tail); overridden by subclasses.
    ignored_prefixes: Sequence[str] = ()
    #: ``weights`` enum classes this backbone accepts (e.g.
    #: ``('ResNet50_Weights', )``); empty: ``weights`` is not supported
    weight_enums: Sequence[str] = ()
    with_cp: bool = False
    weights: Optional[str] = None

    def _check_out_indices(self, out_indices, num_stages) -> tuple:
        """Validate ``out_indices`` against the full stage count; returns
        them as a tuple. Stages after the last one in ``out_indices`` are
        not built (they would be parameters without gradient)."""
        out_indices = tuple(out_indices)
        if not out_indices or any(
                not isinstance(i, int) or not 0 <= i < num_stages
                for i in out_indices):
            raise ValueError(
                f'{type(self).__name__} out_indices={out_indices} must be a '
                f'non-empty tuple of stage indices in 0..{num_stages - 1}')
        if list(out_indices) != sorted(set(out_indices)):
            raise ValueError(
                f'{type(self).__name__} out_indices={out_indices} must be '
                'increasing (finest first)')
        return out_indices

    def _set_weights(self, weights: Optional[str]) -> None:
        """Check a torchvision weight enum name against
        :attr:`weight_enums` (the file is looked up in ``init_weights``)."""
        if weights is None:
            self.weights = None
            return
        enum = str(weights).split('.')[0]
        if enum not in self.weight_enums:
            raise ValueError(
                f'{type(self).__name__} weights={weights!r}: this '
                f'architecture takes {" or ".join(self.weight_enums)}'
                f' (e.g. {self.weight_enums[0]}.IMAGENET1K_V1)'
                if self.weight_enums else
                f'{type(self).__name__} has no torchvision weights; use '
                "init_cfg=dict(type='Pretrained', checkpoint=PATH)")
        torchvision_weights_path(weights)  # a valid member, or a clear error
        self.weights = str(weights)

    def _setup(self, out_indices, frozen_stages, norm_eval, with_cp=False):
        """Call after building the (truncated) stages and setting
        ``stage_channels``."""
        self.with_cp = bool(with_cp)
        num = len(self.stage_channels) - 1
        out_indices = self._check_out_indices(out_indices, num)
        if not -1 <= frozen_stages <= num:
            raise ValueError(
                f'{type(self).__name__} frozen_stages={frozen_stages} must '
                f'be in -1..{num} (-1: none, 0: stem, k: stem + k stages)')
        self.out_indices = out_indices
        self.out_channels = [self.stage_channels[i + 1] for i in out_indices]
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self._freeze()

    @property
    def num_stages(self) -> int:
        return len(self.stage_channels) - 1

    def stage_modules(self) -> List[nn.Module]:
        """``[stem, stage 0, ..., stage N-1]``: callables chained in order."""
        raise NotImplementedError

    @staticmethod
    def _blocks(stage: nn.Module) -> List[nn.Module]:
        """The checkpointing units of a stage: its blocks (ResNet
        ``BasicBlock``/``Bottleneck``, torchvision ``MBConv``/``InvertedResidual``,
        SquadNet blocks), found through one level of ``nn.Sequential``."""
        parts = getattr(stage, '_blocks', None)  # _FeatureStages
        parts = list(stage) if parts is None and isinstance(
            stage, nn.Sequential) else parts or [stage]
        blocks = []
        for part in parts:
            blocks += list(part) if type(part) is nn.Sequential else [part]
        return blocks

    def _run_stage(self, stage: nn.Module, x: Tensor,
                   stem: bool = False) -> Tensor:
        if not self.with_cp:
            return stage(x)
        if stem:  # one unit: its layers are thin, their inputs as large
            return checkpoint_call(stage, x)
        for block in self._blocks(stage):
            x = checkpoint_call(block, x)
        return x

    def forward(self, x: Tensor) -> List[Tensor]:
        modules = self.stage_modules()
        x = self._run_stage(modules[0], x, stem=True)
        outs = []
        for i, stage in enumerate(modules[1:]):
            x = self._run_stage(stage, x)
            if i in self.out_indices:
                outs.append(x)
        return outs

    def _freeze(self):
        for stage in self.stage_modules()[:self.frozen_stages + 1]:
            stage.eval()
            for p in stage.parameters():
                p.requires_grad = False

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

    def convert_pretrained_key(self, key: str) -> str:
        """Map a key of the pretrained file onto this module's names."""
        return key

    def init_weights(self):
        """mmengine's initializers, then a ``Pretrained`` file (last, as
        mmengine orders them) through :func:`load_pretrained`.

        ``init_cfg`` is a dict or a list of dicts of any type in mmengine's
        ``WEIGHT_INITIALIZERS`` (``Kaiming``, ``Xavier``, ``Normal``,
        ``Constant``, ``Pretrained`` with ``checkpoint`` and ``prefix``...).
        """
        cfgs = self.init_cfg
        if isinstance(cfgs, dict):
            cfgs = [cfgs]
        cfgs = list(cfgs or [])
        pretrained = [c for c in cfgs if c.get('type') == 'Pretrained']
        if self.weights is not None:
            if pretrained:
                raise ValueError(
                    f'{type(self).__name__} has weights={self.weights!r} '
                    "and init_cfg type='Pretrained'; keep one")
            pretrained = [dict(type='Pretrained',
                               checkpoint=torchvision_weights_path(
                                   self.weights, must_exist=True))]
            cfgs = cfgs + pretrained
        if not pretrained:
            super().init_weights()
            return
        if len(pretrained) > 1:
            raise ValueError(
                f'{type(self).__name__} init_cfg has {len(pretrained)} '
                "entries of type='Pretrained'; keep one")
        cfg = pretrained[0]
        if 'checkpoint' not in cfg:
            raise KeyError(
                f"{type(self).__name__} init_cfg={cfg} lacks 'checkpoint'"
                "; set init_cfg=dict(type='Pretrained', checkpoint=PATH) "
                'with a local file')
        others = [c for c in cfgs if c is not cfg]
        full = self.init_cfg
        self.init_cfg = others or None
        try:
            super().init_weights()  # the other initializers, children
        finally:
            self.init_cfg = full
        load_pretrained(self, cfg['checkpoint'],
                        prefix=cfg.get('prefix', None),
                        convert=self.convert_pretrained_key,
                        ignored_prefixes=self.ignored_prefixes)
        self._is_init = True
        self._freeze()
