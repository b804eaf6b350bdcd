"""A parameter-free backbone that hands the image on unchanged."""
from mmengine.model import BaseModule

from mtlbox.registry import MODELS


@MODELS.register_module()
class ImageInput(BaseModule):
    """``x -> [x]`` (``[N, 3, H, W]`` as a one-level list).

    The model's backbone for sharing architectures that build their own
    per-task trunks from a backbone config (``CrossStitch``, ``NDDR``): the
    architecture then receives the image itself.

    Args:
        in_channels: channels of the input image (``out_channels`` is
            ``[in_channels]``).
    """

    def __init__(self, in_channels: int = 3, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.out_channels = [in_channels]

    def forward(self, x):
        return [x]
