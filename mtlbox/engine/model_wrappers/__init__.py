from .mtl_ddp import MTLDistributedDataParallel

__all__ = ['MTLDistributedDataParallel']
