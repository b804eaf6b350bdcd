from .metrics import *  # noqa: F401,F403
from .results_table import format_results

__all__ = ['format_results']
