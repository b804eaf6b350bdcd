from .config_check import check_config_tasks, check_config_types

__all__ = ['check_config_types', 'check_config_tasks']
