"""Helpers shared by the per-task metrics."""
from typing import Any, Dict

import torch


def field_data(sample: Dict[str, Any], field: str) -> torch.Tensor:
    """``sample[field]['data']`` (an evaluator-converted PixelData) on CPU."""
    value = sample[field]
    if isinstance(value, dict):
        value = value['data']
    elif hasattr(value, 'data'):
        value = value.data
    return torch.as_tensor(value).detach().cpu()


def is_labeled(sample: Dict[str, Any], task: str, gt_field: str) -> bool:
    """Evaluate a sample only if it is labelled for ``task`` and has the
    ground truth (``labeled_tasks`` missing = labelled for what it has)."""
    labeled = sample.get('labeled_tasks')
    if labeled is not None and task not in labeled:
        return False
    return gt_field in sample
