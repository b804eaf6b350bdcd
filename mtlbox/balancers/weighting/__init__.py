from .ew import EW

__all__ = ['EW']
