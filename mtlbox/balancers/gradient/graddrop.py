"""GradDrop: gradient sign dropout."""
from typing import List, Union

import torch
from mmengine.logging import print_log
from torch import Tensor

from mtlbox.registry import BALANCERS
from ..base import Aggregation, BaseBalancer


def graddrop(grads: Tensor, uniform: Tensor, leak: float = 0.0,
             chunk: int = 1 << 14) -> Tensor:
    """Sign purity ``P = (1 + sum_t g_t / sum_t |g_t|) / 2`` per coordinate;
    keep the positive entries where ``P > U`` and the negative ones where
    ``P < U`` (U ~ U(0, 1) per coordinate); ``leak`` lets that fraction of
    every gradient through. G [T, P], uniform [P] -> d [P].

    Computed from the sum of the positive parts ``pos`` and of the negative
    parts ``neg`` (``P > U  <=>  pos > U (pos - neg)``; the tie ``P = U``
    has probability 0 and keeps the negative part). The work is
    element-wise and memory-bound, so it runs over blocks of ``chunk``
    coordinates that stay in cache across the few passes (2x faster than
    whole-vector passes on a CPU for P = 11 M).
    """
    out = torch.empty_like(grads[0])
    for start in range(0, grads.shape[1], chunk):
        block = grads[:, start:start + chunk]
        pos = block.clamp_min(0).sum(0)
        neg = block.sum(0).sub_(pos)
        l1 = pos - neg
        picked = torch.where(pos > l1.mul_(uniform[start:start + chunk]),
                             pos, neg)
        if leak != 0.0:
            picked = leak * (pos + neg) + (1 - leak) * picked
        out[start:start + chunk] = picked
    return out


def uniform_bits(n: int, device, generator: torch.Generator) -> Tensor:
    """``n`` uniform 16-bit integers (int16 [n]): four per 64-bit draw, 5x
    cheaper than ``n`` float draws on a CPU (8 ms instead of 45 ms for
    n = 11 M). :func:`bits_to_uniform` maps them to U(0, 1)."""
    words = torch.empty((n + 3) // 4, dtype=torch.int64, device=device)
    words.random_(-2**63, None, generator=generator)  # all 64 bits
    return words.view(torch.int16)[:n]


def bits_to_uniform(bits: Tensor, dtype=torch.float32) -> Tensor:
    """``(k + 0.5) / 65536`` for the 16-bit value k of each entry: the
    centres of 65536 equal bins of (0, 1)."""
    return (bits.to(dtype) + 32768.5) / 65536


def _graddrop_whole(grads: Tensor, uniform: Tensor, leak: float) -> Tensor:
    """:func:`graddrop` as whole-vector operations (what ``torch.compile``
    fuses into one pass over G; U is converted from bits outside, as an
    int16 input would keep inductor's CPU kernel from vectorising)."""
    pos = grads.clamp_min(0).sum(0)
    neg = grads.sum(0) - pos
    picked = torch.where(pos > uniform * (pos - neg), pos, neg)
    return leak * (pos + neg) + (1 - leak) * picked


_COMPILED = {}


def compiled_graddrop():
    """The fused CPU kernel of :func:`graddrop` (``torch.compile`` with
    torch's default shape handling: specialised to the first G, recompiled
    once with a dynamic task dimension if the number of present tasks
    changes); the first call compiles (about 10 s cold, a few seconds with
    inductor's on-disk cache)."""
    if 'fn' not in _COMPILED:
        _COMPILED['fn'] = torch.compile(_graddrop_whole)
    return _COMPILED['fn']


@BALANCERS.register_module()
class GradDrop(BaseBalancer):
    """GradDrop (Chen et al., "Just Pick a Sign", NeurIPS 2020): see
    :func:`graddrop`. The paper applies it to the gradients of a shared
    activation layer; here it acts on the shared parameters (``needs=
    'grads'``) or, with ``needs='features'``, on the shared feature maps
    (as the paper). The uniform draws come from a generator on G's device
    seeded from a checkpointed CPU stream, with 16-bit resolution (U is
    the centre of one of 65536 equal bins, :func:`uniform_bits`), so a
    sign is kept with probability within 2**-17 of its purity.

    Args:
        leak: fraction of every gradient always kept (0).
        needs: ``'grads'`` or ``'features'``.
        seed: seed of the random stream.
        compile: run the arithmetic as one fused kernel (``torch.compile``):
            ``'auto'`` (default) on the CPU when G has at least
            ``2**20`` columns, where the one-time compilation pays off
            within a few hundred steps (the demo model: 0.09 s -> 0.035 s
            per step); ``True`` always (an error if compilation fails);
            ``False`` never. ``'auto'`` falls back to the blocked eager
            code, with a logged warning, if compilation fails (e.g. no C++
            compiler). Both give the same result.

    Shapes: G [T, P] (rows: present tasks), losses [T] -> d [P].
    """

    needs = 'grads'

    def __init__(self, tasks, leak: float = 0.0, needs: str = 'grads',
                 seed: int = 0, compile: Union[bool, str] = 'auto'):
        super().__init__(tasks)
        if needs not in ('grads', 'features'):
            raise ValueError(f"GradDrop needs={needs!r}: expected 'grads' or"
                             " 'features'")
        if compile not in (True, False, 'auto'):
            raise ValueError(f"GradDrop compile={compile!r}: expected True, "
                             "False or 'auto'")
        self.needs = needs
        self.leak = float(leak)
        self.compile = compile
        self.register_rng(seed)

    def _combine(self, grads: Tensor, uniform: Tensor) -> Tensor:
        use = self.compile is True or (
            self.compile == 'auto' and grads.device.type == 'cpu'
            and grads.shape[1] >= 2**20)
        if not use:
            return graddrop(grads, uniform, self.leak)
        try:
            return compiled_graddrop()(grads, uniform, self.leak)
        except Exception as err:  # noqa: BLE001 - reported, or re-raised
            if self.compile is True:
                raise RuntimeError(
                    f'GradDrop(compile=True): torch.compile failed ({err}); '
                    "use compile='auto' or False") from err
            print_log(f'GradDrop: torch.compile failed ({type(err).__name__}:'
                      f' {err}); using the eager blocked code from now on',
                      logger='current', level=30)
            self.compile = False
            return graddrop(grads, uniform, self.leak)

    def aggregate(self, grads: Tensor, losses: Tensor,
                  tasks: List[str]) -> Aggregation:
        gen = self.generator()
        seed = int(torch.randint(2**62, (1,), generator=gen))
        self.save_rng(gen)
        device_gen = torch.Generator(device=grads.device).manual_seed(seed)
        uniform = bits_to_uniform(
            uniform_bits(grads.shape[1], grads.device, device_gen),
            grads.dtype)
        # a per-coordinate sign choice: not a combination of G's rows
        return Aggregation(direction=self._combine(grads, uniform),
                           weights=grads.new_ones(len(tasks)))
