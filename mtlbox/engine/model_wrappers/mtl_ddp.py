"""Data-parallel wrapper for multi-task models."""
import torch.distributed as dist
from torch import nn

from mtlbox.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class MTLDistributedDataParallel(nn.Module):
    """Data parallelism that keeps every loss balancer exact.

    PyTorch's ``DistributedDataParallel`` averages the gradient of one
    backward pass. Gradient-level balancers need per-task gradients, and
    loss-level ones need the global loss values, so this wrapper does not
    use DDP's reducer. It broadcasts rank 0's parameters and buffers once,
    then delegates ``train_step`` to the model, which all-reduces task
    presence, loss normalisers, loss values, the per-task gradient matrix
    and finally the parameter gradients (see
    :mod:`mtlbox.engine.distributed`). With N processes of batch b the
    update equals one process with batch N*b (BatchNorm statistics stay
    per process, as with DDP; use SyncBN on GPUs if that matters).

    Config: ``model_wrapper_cfg = dict(type='mtlbox.MTLDistributedDataParallel')``
    (set in ``configs/_base_/default_runtime.py``).
    """

    def __init__(self, module: nn.Module, broadcast: bool = True, **kwargs):
        super().__init__()
        self.module = module
        if broadcast and dist.is_available() and dist.is_initialized():
            for tensor in list(module.parameters()) + list(module.buffers()):
                dist.broadcast(tensor.data, src=0)

    def train_step(self, data, optim_wrapper):
        return self.module.train_step(data, optim_wrapper)

    def val_step(self, data):
        return self.module.val_step(data)

    def test_step(self, data):
        return self.module.test_step(data)

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)
