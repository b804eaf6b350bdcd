"""Mixed precision on the CPU."""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from mtlbox.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under ``torch.autocast('cpu')``.

    mmengine's ``AmpOptimWrapper`` needs a GPU (fp16 with a loss scaler).
    On the CPU mixed precision means bfloat16 autocast, which has fp32's
    exponent range and needs no loss scaling; parameters, gradients and the
    optimizer stay fp32, and the per-task gradients of gradient-level
    balancers come out in fp32. ``tools/train.py --amp`` picks this wrapper
    when no GPU is present.

    Args:
        dtype: autocast dtype, ``'bfloat16'`` (default) or ``'float16'``.
    """

    def __init__(self, *args, dtype: str = 'bfloat16', **kwargs):
        super().__init__(*args, **kwargs)
        if dtype not in ('bfloat16', 'float16'):
            raise ValueError(f"CPUAmpOptimWrapper dtype={dtype!r}: use "
                             "'bfloat16' or 'float16'")
        self.cast_dtype = getattr(torch, dtype)

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast(
                device_type='cpu', dtype=self.cast_dtype):
            yield
