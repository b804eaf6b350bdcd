"""The shared convolutions' share of the task Gram matrix, from their inputs.

For a 2-D convolution the per-task weight gradient is
``g_t = D_t U^T``: ``U`` [CK, NL] is the unfolded input (CK = in_channels x
kernel area, NL = batch x output positions) and ``D_t`` [C_out, NL] task
t's gradient of the output. Its share of ``M = G G^T`` is therefore

    <g_i, g_j> = tr(D_i K D_j^T),   K = U^T U  [NL, NL],

which needs neither g_t nor PyTorch's batched weight gradient (about twice
the [T, *shape] block it returns while it runs:
``tools/benchmark/vmap_memory.py``). :func:`~mtlbox.balancers.task_grads.
task_gramian` takes it for every convolution where it is the cheaper
form: where the trunk's maps are small against its weights (a
ResNet-18's layer2-4 at 64x64, layer4 at 128x160), ``NL <= CK`` and
``NL^2 <= T x weight size``. The other tensors keep their [T, *shape]
hooks. This is the module-level idea of TorchJD's ``autogram`` engine,
applied per layer where it pays.
"""
from collections import Counter
from typing import Dict, List, Optional, Set

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class _Call:
    """One recorded forward call of a convolution."""

    __slots__ = ('input', 'version', 'calls')

    def __init__(self, x: Optional[Tensor]):
        self.input = x  # None: the output gradient will not be computed
        self.version = x._version if x is not None else None
        self.calls = 1


def conv_weight_gram(x: Tensor, conv: nn.Conv2d, delta: Tensor,
                     M: Tensor) -> None:
    """``M += [<g_i, g_j>]`` for the weight of ``conv``, from its input
    ``x`` [N, C, H, W] and the per-task gradients of its output ``delta``
    [T, N, C_out, H', W'], without forming the gradients g_t (see the
    module docstring). Computed in ``M.dtype``."""
    T, N, C = delta.shape[:3]
    U = F.unfold(x.to(M.dtype), conv.kernel_size, conv.dilation,
                 conv.padding, conv.stride)  # [N, CK, L]
    L = U.shape[-1]
    if delta.shape[3] * delta.shape[4] != L:
        raise RuntimeError(
            f'conv_weight_gram: {conv} output gradient '
            f'{tuple(delta.shape)} does not match its {L} unfolded '
            'positions')
    U = U.transpose(0, 1).reshape(U.shape[1], N * L)
    K = U.T @ U
    D = delta.to(M.dtype).reshape(T, N, C, L).transpose(1, 2) \
        .reshape(T, C, N * L)
    A = D @ K
    M.addmm_(A.reshape(T, -1), D.reshape(T, -1).T)


class ConvGramian:
    """Records the shared convolutions' inputs during a forward pass so that
    ``task_gramian`` can add their weights' share of M from them.

    Used as a context manager around the forward (``GradStep.
    forward_context`` does this for every step the Gramian engine takes): a
    forward hook on every ``nn.Conv2d`` (exact type: a subclass may
    transform its weight in ``forward``) whose weight is one of ``shared``,
    has ``groups=1`` and numeric zero padding keeps a reference to its
    input (the tensor autograd saves anyway) and puts a hook on its output,
    inert outside :meth:`begin` / :meth:`end`. A weight used by more than
    one call in the forward keeps the ordinary [T, *shape] hook (its
    gradient is the sum over the calls). The weight is assumed to be read
    only by its module's ``forward``, which holds for every backbone mtlbox
    builds.

    Args:
        root: the model (its modules are searched).
        shared: the shared parameters whose Gram matrix is taken.
    """

    def __init__(self, root: nn.Module, shared: List[Tensor]):
        ids = {id(p) for p in shared}
        self.convs = [
            m for m in root.modules()
            if type(m) is nn.Conv2d and m.groups == 1
            and m.padding_mode == 'zeros' and not isinstance(m.padding, str)
            and id(m.weight) in ids
        ]
        self._calls: Dict[nn.Module, _Call] = {}
        self._handles: list = []
        self._pass = None  # (T, level, M, planned, fired) of begin()
        #: the convolutions whose share the last pass took from inputs
        self.planned: List[nn.Module] = []

    def __enter__(self):
        self.clear()
        self._handles = [m.register_forward_hook(self._forward)
                         for m in self.convs]
        return self

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()
        self._handles = []

    def clear(self) -> None:
        """Drop the recorded inputs (after the step's backward)."""
        self._calls = {}
        self._pass = None

    def _forward(self, module, inputs, output):
        call = self._calls.get(module)
        if call is not None:
            call.calls += 1
            return
        x = inputs[0] if inputs else None
        usable = (torch.is_tensor(x) and x.dim() == 4 and x.requires_grad
                  and torch.is_tensor(output) and output.requires_grad)
        self._calls[module] = _Call(x if usable else None)
        if usable:
            output.register_hook(lambda g, m=module: self._backward(m, g))

    def begin(self, num_tasks: int, level: int, M: Tensor) -> Set[int]:
        """Start the batched backward pass (vmap ``level``, T =
        ``num_tasks``) that adds to ``M``; returns the ids of the weights
        whose share the output hooks will add (leave them out of the
        pass's inputs)."""
        uses = Counter()
        for m, call in self._calls.items():
            uses[id(m.weight)] += call.calls
        planned = {}
        for m, call in self._calls.items():
            if call.input is None or uses[id(m.weight)] != 1:
                continue
            x = call.input
            ck = m.weight[0].numel()
            nl = x.shape[0]
            for i in (0, 1):
                nl *= (x.shape[2 + i] + 2 * m.padding[i] - m.dilation[i]
                       * (m.kernel_size[i] - 1) - 1) // m.stride[i] + 1
            if nl <= ck and nl * nl <= num_tasks * m.weight.numel():
                planned[m] = call
        self._pass = (num_tasks, level, M, planned, set())
        self.planned = list(planned)
        return {id(m.weight) for m in planned}

    def release_one(self) -> Tensor:
        """Hand one planned convolution back to the ordinary hooks (when
        the pass has no other input); returns its weight."""
        planned = self._pass[3]
        module = next(iter(planned))
        del planned[module]
        self.planned.remove(module)
        return module.weight

    def end(self, check: bool = True) -> None:
        """Close the pass; with ``check``, every planned convolution must
        have received its output gradient."""
        if self._pass is None:
            return
        planned, fired = self._pass[3], self._pass[4]
        self._pass = None
        missing = [m for m in planned if m not in fired]
        if check and missing:
            raise RuntimeError(
                f'ConvGramian: no task gradient reached the output of '
                f'{missing[0]} although its input needs one, so its weight '
                "is missing from M; use grad_engine='auto' for this model")

    def _backward(self, module, grad):
        if self._pass is None:
            return None
        num_tasks, level, M, planned, fired = self._pass
        call = planned.get(module)
        if call is None:
            return None
        delta = torch._remove_batch_dim(grad, level, num_tasks, 0)
        if delta.dim() != 5 or delta.shape[0] != num_tasks:
            raise RuntimeError(
                f'ConvGramian: expected a [{num_tasks}, N, C, H, W] batched '
                f'output gradient of {module}, got {tuple(delta.shape)} '
                '(nested vmap?)')
        if call.input._version != call.version:
            raise RuntimeError(
                f'ConvGramian: the input of {module} was modified in place '
                "after the convolution read it; use grad_engine='auto'")
        conv_weight_gram(call.input, module, delta, M)
        fired.add(module)
        return None
