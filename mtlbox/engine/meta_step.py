"""The ``'meta'`` step family: a look-ahead update of the balancer's task
weights before the ordinary loss-level step (Auto-Lambda)."""
from typing import Dict, List, Optional

import torch
from torch import Tensor

from mtlbox.engine.balanced_step import LossStep
from mtlbox.engine.distributed import (NonFiniteGradient, all_reduce_mean,
                                       is_distributed)
from mtlbox.registry import STEPS

__all__ = ['MetaStep', 'rank_mean_grads', 'virtual_step_directions']


def _trainable(model) -> Dict[str, torch.nn.Parameter]:
    return {name: p for name, p in model.named_parameters()
            if p.requires_grad and not name.startswith('balancer.')}


def _losses_at(model, values: Dict[str, Tensor], data) -> Dict[str, Tensor]:
    """Per-task losses of ``data`` with the parameters replaced by
    ``values`` and the running statistics by copies
    (:func:`torch.func.functional_call`): the model's own tensors are not
    touched, so the step's graph stays valid and BatchNorm statistics see
    each training batch once."""
    stats = {name: b.clone() for name, b in model.named_buffers()
             if not name.startswith(('balancer.', 'nonfinite_'))}
    return model.task_losses(torch.func.functional_call(
        model, {**stats, **values}, (data['inputs'], data['data_samples']),
        dict(mode='loss')))


def rank_mean_grads(grads, params) -> List[Optional[Tensor]]:
    """``grads`` averaged over ranks with one flat all-reduce (every rank
    reduces every parameter, whichever it used); None stays for a parameter
    no rank used (the optimizer skips it), zeros fill the others."""
    if not is_distributed():
        return list(grads)
    used = torch.tensor([float(g is not None) for g in grads])
    flat = torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1)
                      for g, p in zip(grads, params)] + [used.to(
                          params[0].device, params[0].dtype)])
    flat = all_reduce_mean(flat)
    pieces = flat.split([p.numel() for p in params] + [len(params)])
    return [piece.view_as(p) if flag > 0 else None
            for piece, p, flag in zip(pieces, params, pieces[-1].tolist())]


def virtual_step_directions(optimizer, params, grads) -> List[Tensor]:
    """``lr * (grad + weight_decay p + momentum buf)`` per parameter: the
    displacement of the optimizer's next step if it is SGD (momentum buffer
    as stored), else ``lr * grad``; 0 for a parameter without a gradient
    (the optimizer skips it too)."""
    group_of = {id(p): g for g in optimizer.param_groups for p in g['params']}
    out = []
    for p, g in zip(params, grads):
        group = group_of.get(id(p), optimizer.param_groups[0])
        lr = float(group['lr'])
        if g is None:
            out.append(torch.zeros_like(p))
            continue
        if isinstance(optimizer, torch.optim.SGD):
            g = g + float(group.get('weight_decay', 0.0)) * p.detach()
            buf = optimizer.state.get(p, {}).get('momentum_buffer')
            if buf is not None and group.get('momentum', 0.0):
                g = g + float(group['momentum']) * buf
        out.append(lr * g)
    return out


def _task_loss_vector(model, values, data, tasks, optim_wrapper) -> Tensor:
    """Per-task loss values of ``tasks`` on ``data`` at the parameter values
    ``values`` (0 for a task without labels there), rank-averaged."""
    with torch.no_grad(), optim_wrapper.optim_context(model):
        losses = _losses_at(model, values, data)
        vec = torch.stack([
            losses[t].detach().float().reshape(()) if t in losses else
            torch.zeros(()) for t in tasks])
    return all_reduce_mean(vec)


@STEPS.register_module(name='meta')
class MetaStep(LossStep):
    """Auto-Lambda's step (see :class:`~mtlbox.balancers.weighting.
    AutoLambda`): the balancer's lambdas move by the finite-difference
    hypergradient of the held-out primary loss after a virtual SGD step,
    then the ordinary step on ``sum lambda_t L_t`` runs (:class:`LossStep`,
    global loss values under DDP). All gradients and loss values of the
    look-ahead are averaged over ranks, so every rank updates lambda alike.
    The look-ahead evaluates the model at other parameter values with
    :func:`torch.func.functional_call` on copies: the parameters and the
    BatchNorm statistics are never modified by it. A step skipped for a
    non-finite gradient (:class:`~mtlbox.engine.distributed.
    NonFiniteGradient`) also takes back the move of lambda and of its Adam
    state, so the run goes on as if the batch had not been drawn (the
    held-out stream has advanced, as the training stream has).
    """

    #: relative size of the finite-difference step (DARTS, the reference)
    fd_scale = 0.01
    #: ``dL_pri / dlambda`` [T] of the last look-ahead (present tasks)
    last_hypergradient = None

    def __call__(self, model, data, losses, shared, trunk, optim_wrapper):
        # lambda, its Adam moments and step: a few [T] buffers
        before = {k: v.clone()
                  for k, v in model.balancer.state_dict().items()}
        self.look_ahead(model, data, losses, optim_wrapper)
        try:
            return super().__call__(model, data, losses, shared, trunk,
                                    optim_wrapper)
        except NonFiniteGradient:
            model.balancer.load_state_dict(before)
            raise

    def look_ahead(self, model, data, losses: Dict[str, Tensor],
                   optim_wrapper) -> None:
        from mtlbox.balancers.weighting.auto_lambda import \
            finite_difference_hypergradient
        balancer = model.balancer
        tasks = list(losses)
        named = _trainable(model)
        names, params = list(named), list(named.values())
        # sum_t lambda_t L_t is linear: the rank mean of its local
        # gradients is the global one
        grads = torch.autograd.grad(balancer.weigh(losses).total, params,
                                    retain_graph=True, allow_unused=True)
        grads = rank_mean_grads(grads, params)
        steps = virtual_step_directions(optim_wrapper.optimizer, params,
                                        grads)
        held_out = model.data_preprocessor(balancer.next_val_batch(), True)
        ahead = {n: (p.detach() - s).requires_grad_()
                 for n, p, s in zip(names, params, steps)}
        with optim_wrapper.optim_context(model):
            val = _losses_at(model, ahead, held_out)
        primary = [val[t] for t in balancer.primary if t in val]
        if not primary:
            raise RuntimeError(
                f'AutoLambda: the held-out batch has no sample labelled '
                f'for the primary tasks {balancer.primary}')
        v = torch.autograd.grad(sum(primary), list(ahead.values()),
                                allow_unused=True)
        v = [torch.zeros_like(p) if g is None else g
             for g, p in zip(rank_mean_grads(v, params), params)]
        norm = torch.sqrt(sum((g.double()**2).sum() for g in v))
        if not torch.isfinite(norm) or norm == 0:
            return  # no signal (or a non-finite one): lambda stays
        eps = self.fd_scale / float(norm)
        lr = float(optim_wrapper.optimizer.param_groups[0]['lr'])
        plus = _task_loss_vector(
            model, {n: p.detach() + eps * g
                    for n, p, g in zip(names, params, v)},
            data, tasks, optim_wrapper)
        minus = _task_loss_vector(
            model, {n: p.detach() - eps * g
                    for n, p, g in zip(names, params, v)},
            data, tasks, optim_wrapper)
        hyper = finite_difference_hypergradient(plus, minus, eps, lr)
        self.last_hypergradient = hyper
        if bool(torch.isfinite(hyper).all()):
            balancer.update(tasks, hyper)
