from .metrics import *  # noqa: F401,F403
from .metrics.binary_f1_metric import BinaryF1Metric, binary_f1
from .mtl_evaluator import (METRIC_DIRECTIONS, MTLEvaluator, amtl_score,
                            delta_m, higher_is_better, load_baselines)
from .results_table import format_results

__all__ = ['format_results', 'MTLEvaluator', 'delta_m', 'amtl_score',
           'higher_is_better', 'load_baselines', 'METRIC_DIRECTIONS',
           'BinaryF1Metric', 'binary_f1']
