"""Helpers shared by the per-task metrics."""
from typing import Any, Dict

import torch

from mtlbox.structures.task_kinds import geometry_changed


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
    if gt_field not in sample:
        return False
    if gt_field != 'gt_label':
        check_frame(sample, task)
    return True


def check_frame(sample: Dict[str, Any], task: str) -> None:
    """Raise if ``sample``'s ground truth is in the network's input frame
    while its image was resized, padded or flipped: predictions are in the
    original image frame (heads undo the geometry), so the two would be
    compared pixel against a different pixel, or box against a rescaled
    box. ``PackMTLInputs`` records the frame as ``gt_frame``."""
    if sample.get('gt_frame', 'original') != 'input':
        return
    if geometry_changed(sample):
        ori = tuple(sample.get('ori_shape', ())[:2])
        img = tuple(sample.get('img_shape', ori)[:2])
        raise ValueError(
            f'{sample.get("img_path", "a sample")}: the {task!r} ground truth '
            f'is in the input frame {img} (resized/padded/flipped) but '
            f'predictions are in the original frame {ori}; evaluate with a '
            'dataset in test mode (test_mode=True in the val/test dataset '
            "config) or pack with PackMTLInputs(gt_frame='original')")
