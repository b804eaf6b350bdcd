from .hooks import *  # noqa: F401,F403
from .model_wrappers import *  # noqa: F401,F403
from .optim_wrappers import *  # noqa: F401,F403
from .meta_step import *  # noqa: F401,F403
