from .mtl_data_sample import TASK_FIELDS, MTLDataSample

__all__ = ['MTLDataSample', 'TASK_FIELDS']
