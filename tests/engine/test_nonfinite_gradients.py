"""A finite loss whose gradient is NaN skips the step and names the task.

The depth head's loss gets ``sqrt((v - v.detach())**2)``: its value is 0 (the
loss stays finite) but its derivative is ``0.5 / sqrt(0) * 0 = inf * 0 =
NaN``, so without a check every parameter the depth loss reaches becomes
NaN after the optimizer step.
"""
import copy

import pytest
import torch
from mmengine.optim import OptimWrapper

import mtlbox.models.multitask_model as mtm
from tests.balancers.conftest import build_tiny_model, make_batches


def _nan_gradient(value):
    return value + torch.sqrt((value - value.detach())**2)


def _poison_depth(model):
    """Give the depth head's losses a NaN gradient with a finite value."""
    head = model.heads['depth']
    loss, by_sample = head.loss, head.loss_by_sample

    def poisoned_loss(*args, **kwargs):
        return {k: _nan_gradient(v) for k, v in loss(*args, **kwargs).items()}

    def poisoned_by_sample(*args, **kwargs):
        values, mask = by_sample(*args, **kwargs)
        return _nan_gradient(values), mask

    head.loss, head.loss_by_sample = poisoned_loss, poisoned_by_sample


def _model(balancer):
    model = build_tiny_model(balancer)
    if balancer['type'] == 'SLGrad':
        model.balancer.set_val_batches(make_batches(1, seed=5))
    # one autograd.grad per task: a NaN is traced to its task (a batched
    # pass, the Gramian engine's too, spreads it over every row: 0 * NaN)
    model.balanced_step.engine.choice = 'sequential'
    model.balanced_step.engine.path_choice = 'tensors'
    return model


@pytest.fixture
def warnings(monkeypatch):
    seen = []
    monkeypatch.setattr(mtm, 'print_log',
                        lambda msg, *a, **k: seen.append(str(msg)))
    return seen


def _state(model, optim):
    return (copy.deepcopy(model.state_dict()), str(optim.state_dict()))


def _assert_unchanged(model, optim, before, buffers=True):
    params, opt_state = before
    names = dict(model.named_parameters())
    for key, value in model.state_dict().items():
        if key.startswith('nonfinite') or not (buffers or key in names):
            continue
        assert torch.isfinite(value.float()).all(), key
        torch.testing.assert_close(value, params[key], rtol=0, atol=0,
                                   msg=key)
    assert str(optim.state_dict()) == opt_state
    assert all(p.grad is None or not p.grad.any()
               for p in model.parameters())


@pytest.mark.parametrize('balancer', [
    dict(type='EW'),  # loss level: only the combined gradient exists
    dict(type='FAMO'),  # loss level, state moved by weigh()
    dict(type='PCGrad'),  # gradient level: per-task rows of G
    dict(type='MGDAUB'),  # feature level
    dict(type='SLGrad', main_task='seg'),  # sample level
], ids=lambda b: b['type'])
def test_nan_gradient_of_finite_loss_skips_the_step(balancer, warnings):
    model = _model(balancer)
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=0.01))
    data = make_batches(3)
    model.train_step(data[0], optim)  # a good step: Adam has state
    before = _state(model, optim)
    _poison_depth(model)
    logs = model.train_step(data[1], optim)
    _assert_unchanged(model, optim, before)
    assert model.nonfinite_steps.item() == 1
    assert logs['nonfinite_steps'] == 1
    (message, ) = [m for m in warnings if 'non-finite gradient' in m]
    assert "['depth']" in message and 'seg' not in message.split(
        'task(s)')[1].split(';')[0], message
    assert 'step skipped' in message


def test_loss_level_message_names_parameters(warnings):
    model = _model(dict(type='EW'))
    _poison_depth(model)
    model.train_step(make_batches(1)[0], OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.1)))
    (message, ) = warnings
    assert 'heads.depth.' in message and 'backbone.conv1.weight' in message
    assert 'heads.seg.' not in message


def test_raise_policy_names_the_task_of_the_gradient():
    model = _model(dict(type='PCGrad'))
    model.nonfinite_loss = 'raise'
    _poison_depth(model)
    with pytest.raises(FloatingPointError, match=r"gradient.*\['depth'\]"):
        model.train_step(make_batches(1)[0], OptimWrapper(
            torch.optim.SGD(model.parameters(), lr=0.1)))


@pytest.mark.parametrize('balancer', [dict(type='EW'), dict(type='PCGrad')],
                         ids=lambda b: b['type'])
def test_accumulation_skips_the_whole_window(balancer, warnings):
    """k=2: a NaN gradient in the first micro-batch skips the window's
    update (its good second micro-batch included, as a loss scaler does);
    the next window steps normally from unchanged weights."""
    model = _model(balancer)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1),
                         accumulative_counts=2)
    optim.initialize_count_status(model, 0, 4)
    data = make_batches(4)
    before = _state(model, optim)
    clean_loss, clean_by_sample = (model.heads['depth'].loss,
                                   model.heads['depth'].loss_by_sample)
    _poison_depth(model)
    model.train_step(data[0], optim)
    model.heads['depth'].loss = clean_loss
    model.heads['depth'].loss_by_sample = clean_by_sample
    model.train_step(data[1], optim)  # window boundary: skipped
    # (the good micro-batch updated BatchNorm statistics, as it should)
    _assert_unchanged(model, optim, before, buffers=False)
    assert model.nonfinite_steps.item() == 1
    assert len([m for m in warnings if 'non-finite gradient' in m]) == 1
    model.train_step(data[2], optim)
    model.train_step(data[3], optim)
    changed = [k for k, v in model.state_dict().items()
               if not torch.equal(v, before[0][k])]
    assert len(changed) > 10
    assert all(torch.isfinite(p).all() for p in model.parameters())


class _ScalerOptimWrapper(OptimWrapper):
    """AmpOptimWrapper's step logic with a CPU GradScaler (mmengine's
    AmpOptimWrapper refuses to build without a GPU)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_scaler = torch.amp.GradScaler('cpu', init_scale=1024.)

    def backward(self, loss, **kwargs):
        self.loss_scaler.scale(loss).backward(**kwargs)
        self._inner_count += 1

    def step(self, **kwargs):
        self.loss_scaler.step(self.optimizer, **kwargs)
        self.loss_scaler.update()


@pytest.mark.parametrize('balancer', [dict(type='EW'), dict(type='PCGrad')],
                         ids=lambda b: b['type'])
def test_loss_scaler_keeps_handling_nonfinite_gradients(balancer, warnings):
    """With a loss scaler inf/NaN gradients are its business: it skips the
    step and halves the scale; mtlbox does not count or log a second skip."""
    model = _model(balancer)
    optim = _ScalerOptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    before = [p.detach().clone() for p in model.parameters()]
    _poison_depth(model)
    model.train_step(make_batches(1)[0], optim)
    assert optim.loss_scaler.get_scale() == 512.
    assert model.nonfinite_steps.item() == 0 and not warnings
    for p, q in zip(model.parameters(), before):
        assert torch.equal(p, q)


def _rank_worker(rank, init_file, balancer, out_dir):
    import torch.distributed as dist
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=2)
    from mtlbox.engine import MTLDistributedDataParallel
    model = _model(balancer)
    wrapped = MTLDistributedDataParallel(model)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    if rank == 0:  # the NaN gradient exists on one rank only
        _poison_depth(model)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    seen = []
    mtm.print_log = lambda msg, *a, **k: seen.append(str(msg))
    wrapped.train_step(make_batches(1, seed=rank)[0], optim)
    changed = [k for k, v in model.state_dict().items()
               if not k.startswith('nonfinite') and not torch.equal(
                   v, before[k])]
    named = len(seen) == 1 and "task(s) ['depth']" in seen[0]
    torch.save(dict(changed=changed, skipped=model.nonfinite_steps.item(),
                    named=named), f'{out_dir}/rank{rank}.pth')
    dist.destroy_process_group()


@pytest.mark.parametrize('balancer', [dict(type='EW'), dict(type='PCGrad')],
                         ids=lambda b: b['type'])
def test_data_parallel_ranks_skip_together(balancer, tmp_path, monkeypatch):
    """A NaN gradient on rank 0 only: both ranks skip the step (a rank that
    stepped alone would hang the next collective or diverge) and both logs
    name the task."""
    import torch.multiprocessing as mp
    monkeypatch.setattr(mtm, 'print_log', lambda *a, **k: None)
    ctx = mp.get_context('fork')
    procs = [ctx.Process(target=_rank_worker,
                         args=(r, str(tmp_path / 'init'), balancer,
                               str(tmp_path))) for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    for p in procs:
        if p.is_alive():
            p.kill()
    assert [p.exitcode for p in procs] == [0, 0]
    for rank in range(2):
        result = torch.load(tmp_path / f'rank{rank}.pth')
        assert result == dict(changed=[], skipped=1, named=True), rank


def test_accumulation_window_with_a_nonfinite_loss_is_skipped(warnings):
    """The same rule for a NaN loss: the micro-batch counts (the window
    does not stretch into the next one) and the window's update is
    skipped; the next window steps from unchanged weights."""
    model = _model(dict(type='EW'))
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1),
                         accumulative_counts=2)
    optim.initialize_count_status(model, 0, 4)
    data = make_batches(4)
    data[0]['data_samples'][0].gt_depth.data[0, 0, 0] = float('nan')
    before = _state(model, optim)
    model.train_step(data[0], optim)
    model.train_step(data[1], optim)  # window boundary: skipped
    _assert_unchanged(model, optim, before, buffers=False)
    assert optim._inner_count == 2
    model.train_step(data[2], optim)
    model.train_step(data[3], optim)
    assert sum(not torch.equal(v, before[0][k])
               for k, v in model.named_parameters()) > 10


def test_nonfinite_rows_without_a_mask_and_no_false_alarm_on_overflow():
    from mtlbox.engine.distributed import nonfinite_rows
    G = torch.ones(3, 10)
    G[1, 3] = float('nan')
    assert nonfinite_rows(G) == [1]
    big = torch.full((2, 4), 3e38)  # finite entries whose sum overflows
    assert nonfinite_rows(big) == []
    big[0, 1] = float('inf')
    assert nonfinite_rows(big) == [0]
