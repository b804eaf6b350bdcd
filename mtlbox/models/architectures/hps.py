"""Hard parameter sharing."""
from mtlbox.registry import MODELS
from .base import BaseArchitecture


@MODELS.register_module()
class HPS(BaseArchitecture):
    """Hard parameter sharing: every task head reads the same features.

    The shared trunk (backbone + neck) is the whole shared part; HPS adds no
    parameters. Caruana, "Multitask Learning", 1997.
    """

    def forward(self, feats, tasks):
        return {task: feats for task in tasks}
