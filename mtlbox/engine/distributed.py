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


class NonFiniteGradient(FloatingPointError):
    """A finite loss gave a NaN/inf gradient; the update was not applied.

    Raised by the step engines after the gradients were zeroed (so nothing
    reaches the optimizer) and caught by ``MultiTaskModel.train_step``,
    which rolls back BatchNorm statistics, counts and logs the skipped step.

    Attributes:
        tasks: the tasks whose own gradient is non-finite, when the engine
            has per-task gradients (gradient-, feature-, sample-level
            balancers); ``None`` when only the combined gradient exists.
        params: the parameters whose ``.grad`` held a non-finite value on
            this rank (empty when the per-task check caught it first, or
            when only another rank had it).
        where: which gradient was non-finite, for the message.
    """

    def __init__(self, where: str, tasks=None, params=()):
        super().__init__(where)
        self.where = where
        self.tasks = None if tasks is None else list(tasks)
        self.params = list(params)


def loss_scaler_active(optim_wrapper) -> bool:
    """Whether ``optim_wrapper`` has an enabled dynamic loss scaler (fp16
    AMP). Its inf/NaN check then skips bad steps and lowers the scale, so
    mtlbox leaves non-finite gradients to it."""
    scaler = getattr(optim_wrapper, 'loss_scaler', None)
    return scaler is not None and scaler.is_enabled()


def any_rank(flags: Tensor) -> Tensor:
    """Element-wise "true on any rank" of a float/bool ``flags`` vector, so
    that every rank takes the same skip decision."""
    flags = flags.detach().to(torch.float32)
    if not is_distributed():
        return flags > 0
    out = flags.clone()
    dist.all_reduce(out)
    return out > 0


def nonfinite_rows(matrix: Tensor) -> List[int]:
    """Rows of ``matrix`` [T, ...] with a NaN/inf entry.

    One read pass (row sums, no [T, P] mask): a row whose sum is finite has
    only finite entries; a row whose sum is not (NaN/inf, or finite values
    so large that the sum overflows) is then checked entry by entry.
    """
    if matrix.numel() == 0:
        return []
    rows = matrix.reshape(matrix.shape[0], -1)
    suspects = (~torch.isfinite(rows.sum(1))).nonzero().flatten().tolist()
    return [i for i in suspects if not bool(torch.isfinite(rows[i]).all())]


def nonfinite_grad_params(params: Iterable[torch.nn.Parameter]) -> list:
    """The parameters whose ``.grad`` holds a NaN/inf value.

    The common (all finite) case costs one fused norm over all gradients
    and one host sync; only when that norm is not finite are the tensors
    inspected one by one (a finite gradient so large that its squared norm
    overflows is not reported).
    """
    params = [p for p in params if p.grad is not None]
    if not params:
        return []
    total = torch.nn.utils.get_total_norm([p.grad for p in params])
    if torch.isfinite(total):
        return []
    return [p for p in params if not torch.isfinite(p.grad).all()]
