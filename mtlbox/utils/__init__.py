from .config_check import check_config_types

__all__ = ['check_config_types']
