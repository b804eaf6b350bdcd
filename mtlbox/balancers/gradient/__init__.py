from .pcgrad import PCGrad, pcgrad

__all__ = ['PCGrad', 'pcgrad']
