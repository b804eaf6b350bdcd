from .mtl_data_sample import MTLDataSample
from .task_kinds import (TASK_FIELDS, TASK_KINDS, TaskKind, pixel_kinds,
                         register_task_kind)

__all__ = ['MTLDataSample', 'TASK_FIELDS', 'TASK_KINDS', 'TaskKind',
           'pixel_kinds', 'register_task_kind']
