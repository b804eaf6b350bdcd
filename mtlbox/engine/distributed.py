"""Collective helpers that make N processes equal one process with N x batch.

mtlbox does not use DDP's gradient reducer: balancers need per-task
gradients, global loss values and global normalisers, which DDP's single
backward cannot provide. Instead (see :class:`MTLDistributedDataParallel`):

- per-task loss normalisers (valid pixels, labelled samples, positives) are
  all-reduced so each rank's loss is ``local_sum / global_count * N``;
- the per-task gradient matrix, loss values and task presence are
  all-reduced so every rank runs the balancer on the same global numbers;
- parameter gradients are averaged with one flat all-reduce before the
  optimizer steps.
"""
from typing import Iterable, List

import torch
import torch.distributed as dist
from torch import Tensor


def world_size() -> int:
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


def is_distributed() -> bool:
    return world_size() > 1


def all_reduce_mean(tensor: Tensor) -> Tensor:
    """Average ``tensor`` over ranks (returns a new tensor)."""
    if not is_distributed():
        return tensor
    out = tensor.detach().clone()
    dist.all_reduce(out)
    return out / world_size()


def all_reduce_sum(tensor: Tensor) -> Tensor:
    if not is_distributed():
        return tensor
    out = tensor.detach().clone()
    dist.all_reduce(out)
    return out


def sync_gradients(params: Iterable[torch.nn.Parameter]) -> None:
    """Average ``.grad`` of ``params`` over ranks with one flat all-reduce.

    A parameter without a gradient on a rank contributes zeros (a head whose
    task has no label there); after the call every rank has the same grads.
    """
    if not is_distributed():
        return
    params: List[torch.nn.Parameter] = [p for p in params if p.requires_grad]
    if not params:
        return
    flat = torch.cat([(p.grad if p.grad is not None else
                       torch.zeros_like(p)).reshape(-1) for p in params])
    dist.all_reduce(flat)
    flat /= world_size()
    offset = 0
    for p in params:
        n = p.numel()
        p.grad = flat[offset:offset + n].view_as(p).clone()
        offset += n


def all_gather_columns(matrix: Tensor):
    """Concatenate [T, F_r] matrices of all ranks along columns (F may
    differ per rank); returns it and this rank's first column."""
    if not is_distributed():
        return matrix, 0
    sizes = [torch.zeros(1, dtype=torch.long) for _ in range(world_size())]
    dist.all_gather(sizes, torch.tensor([matrix.shape[1]]))
    width = int(max(s.item() for s in sizes))
    padded = matrix.new_zeros(matrix.shape[0], width)
    padded[:, :matrix.shape[1]] = matrix
    parts = [torch.empty_like(padded) for _ in range(world_size())]
    dist.all_gather(parts, padded.contiguous())
    offset = int(sum(s.item() for s in sizes[:dist.get_rank()]))
    return torch.cat([p[:, :int(s.item())] for p, s in zip(parts, sizes)],
                     dim=1), offset


def finish_update(optim_wrapper) -> None:
    """What ``OptimWrapper.update_params`` does after ``backward()``, with
    the gradient average over ranks right before the (clipped) step."""
    if optim_wrapper.should_update():
        sync_gradients(p for group in optim_wrapper.optimizer.param_groups
                       for p in group['params'])
        optim_wrapper.step()
        optim_wrapper.zero_grad()
