import pytest
import torch

from mtlbox.balancers import sample_scores, slgrad_weights
from mtlbox.balancers.sample.engine import main_task_gradient


def test_weights_by_hand():
    s = torch.tensor([[1.0, -2.0], [3.0, 5.0]])
    mask = torch.tensor([[True, True], [True, False]])
    assert slgrad_weights(s, mask).tolist() == [[0.25, 0.0], [0.75, 0.0]]
    assert slgrad_weights(-s.abs(), mask).abs().sum() == 0  # nothing helps


def test_scores_equal_per_sample_gradient_products(tiny_model, batches):
    """s[t, i] from the double-backward JVP equals <grad l_ti, v> computed
    one sample at a time."""
    model = tiny_model(dict(type='SLGrad', main_task='seg'))
    train, val = batches(2, batch_size=3)
    shared = model.shared_parameters()
    model.eval()  # BN in eval mode: samples are independent
    v = main_task_gradient(model, val, 'seg', shared)
    data = model.data_preprocessor(train, True)
    tasks = ['seg', 'depth', 'normal']
    per = model.loss_by_sample(data['inputs'], data['data_samples'], tasks)
    scores = sample_scores(per, shared, v)
    for t_i, task in enumerate(tasks):
        for i in range(3):
            grads = torch.autograd.grad(per[task][0][i], shared,
                                        retain_graph=True, allow_unused=True)
            dot = sum((g * d).sum() for g, d in zip(grads, v)
                      if g is not None)
            assert scores[t_i, i].item() == pytest.approx(dot.item(),
                                                          rel=1e-4, abs=1e-7)


def test_train_step_weights_and_update(tiny_model, batches, optim):
    model = tiny_model(dict(type='SLGrad', main_task='depth'))
    with pytest.raises(RuntimeError, match='val_dataloader'):
        model.train_step(batches(1)[0], optim(model))
    model.balancer.set_val_batches(batches(2, seed=5))
    ow = optim(model)
    before = [p.detach().clone() for p in model.parameters()]
    for batch in batches(3):
        out = model.train_step(batch, ow)
        assert all(torch.isfinite(v) for v in out.values())
        w = model.balanced_step.last_weights
        assert w.sum().item() == pytest.approx(1.0) or w.sum() == 0
        assert (w >= 0).all()
    assert any(not torch.equal(a, b.detach())
               for a, b in zip(before, model.parameters()))


def test_absent_task_samples_get_no_weight(tiny_model, batches, optim):
    model = tiny_model(dict(type='SLGrad', main_task='seg'))
    model.balancer.set_val_batches(batches(1, seed=5))
    data = batches(1, batch_size=4,
                   label_groups=[['seg', 'depth'], ['seg', 'normal']])[0]
    model.train_step(data, optim(model))
    w = model.balanced_step.last_weights  # rows seg, depth, normal
    assert w[1, 1].item() == 0 and w[1, 3].item() == 0  # no depth label
    assert w[2, 0].item() == 0 and w[2, 2].item() == 0


def test_hook_hands_over_val_loader(tiny_model, batches):
    from types import SimpleNamespace

    from mtlbox.engine.hooks.balancer_hook import BalancerHook
    model = tiny_model(dict(type='SLGrad', main_task='seg'))
    val = batches(1, seed=4)
    loop = SimpleNamespace(max_iters=10)
    runner = SimpleNamespace(model=model, train_loop=loop,
                             val_loop=SimpleNamespace(dataloader=val))
    BalancerHook().before_train(runner)
    assert model.balancer.next_val_batch() is val[0]
    runner = SimpleNamespace(model=tiny_model(dict(type='SLGrad',
                                                   main_task='seg')),
                             train_loop=loop, val_loop=None)
    with pytest.raises(RuntimeError, match='val_dataloader'):
        BalancerHook().before_train(runner)


def test_backbone_runs_once_per_batch(tiny_model, batches, optim):
    """One step runs the backbone on the training batch once (its maps are
    reused for the per-sample losses) and once on the held-out batch, so
    BatchNorm statistics see each batch once."""
    model = tiny_model(dict(type='SLGrad', main_task='depth'))
    model.balancer.set_val_batches(batches(1, seed=5))
    sizes = []
    model.backbone.register_forward_hook(
        lambda mod, args, out: sizes.append(args[0].shape[0]))
    data = batches(1, batch_size=3)[0]
    model.train_step(data, optim(model))
    assert len(sizes) == 2, sizes
