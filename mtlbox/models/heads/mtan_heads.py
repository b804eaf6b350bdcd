"""Dense heads with the MTAN / Nash-MTL / FAMO SegNet predictor."""
import torch
from torch import nn

from mtlbox.registry import MODELS
from ..backbones.segnet import xavier_init_
from .depth_head import DepthHead
from .normal_head import NormalHead
from .seg_head import SegHead


def mtan_predictor(head, channels: int) -> None:
    """Make ``head``'s predictor the reference one: ``3x3 conv (C -> C,
    bias) -> 1x1 conv (C -> out, bias)``, no normalisation or activation in
    between, xavier-initialised; the decoder passes its single input map
    through. Parameters: ``9 C^2 + C + (C + 1) out`` (C = 64: 37,773 for 13
    classes, 36,993 for depth, 37,123 for normals)."""
    if head.in_channels != [channels]:
        raise ValueError(f'{type(head).__name__}: in_channels='
                         f'{head.in_channels}; the MTAN predictor reads one '
                         f'map of {channels} channels')
    head.fuse = nn.Conv2d(channels, channels, 3, padding=1)
    head.predictor = nn.Conv2d(channels, head.out_channels, 1)
    xavier_init_(head.fuse)
    xavier_init_(head.predictor)


@MODELS.register_module()
class MTANSegHead(SegHead):
    """:class:`SegHead` with :func:`mtan_predictor`: the reference's
    ``log_softmax`` + NLL (ignore -1) is the cross entropy here (the -1
    labels are 255 after loading)."""

    def __init__(self, in_channels=64, num_classes=13, **kwargs):
        super().__init__(in_channels, num_classes, **kwargs)
        mtan_predictor(self, self.in_channels[0])


@MODELS.register_module()
class MTANDepthHead(DepthHead):
    """:class:`DepthHead` with :func:`mtan_predictor` and the reference's
    linear output: the loss (masked L1 over ``gt > 0``) reads the raw map.
    Difference: predictions are clamped to ``min_depth`` (1e-3) so that
    logarithmic metrics stay finite; ``abs_err`` / ``abs_rel`` change only
    where the raw output is below it."""

    def __init__(self, in_channels=64, **kwargs):
        super().__init__(in_channels, **kwargs)
        mtan_predictor(self, self.in_channels[0])

    def loss_inputs(self, out):
        return out

    def postprocess(self, out):
        return torch.clamp(out, min=self.min_depth)


@MODELS.register_module()
class MTANNormalHead(NormalHead):
    """:class:`NormalHead` with :func:`mtan_predictor` (output
    L2-normalised; loss ``1 - cos`` over pixels with a non-zero normal, the
    reference's ``1 - sum(pred . gt) / #valid``)."""

    def __init__(self, in_channels=64, **kwargs):
        super().__init__(in_channels, **kwargs)
        mtan_predictor(self, self.in_channels[0])
