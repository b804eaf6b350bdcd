"""Format evaluation results as a per-task table."""
from collections import OrderedDict
from typing import Dict


def format_results(metrics: Dict[str, float], title: str = 'Results') -> str:
    """One row per task prefix (``seg/mIoU`` -> task ``seg``)."""
    rows = OrderedDict()
    for key, value in metrics.items():
        task, _, name = key.rpartition('/')
        if not isinstance(value, (int, float)):
            continue
        rows.setdefault(task or '-', []).append((name, float(value)))
    if not rows:
        return f'{title}: no metrics'
    lines = [title, f'{"task":<10} metrics', '-' * 72]
    for task, items in rows.items():
        cells = '  '.join(f'{n}={v:.4f}' for n, v in items)
        lines.append(f'{task:<10} {cells}')
    return '\n'.join(lines)
