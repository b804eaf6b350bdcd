from .synth_scenes import SynthScenes
from .transforms import *  # noqa: F401,F403

__all__ = ['SynthScenes']
