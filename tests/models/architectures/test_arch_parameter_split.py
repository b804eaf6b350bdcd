"""Every architecture's shared/task-specific split, checked by autograd:
a task-specific parameter of task t receives gradient from t's outputs and
from no other task's; a shared parameter from every task's."""
import sys
import os.path as osp

import pytest
import torch

sys.path.insert(0, osp.dirname(__file__))
from _arch_cases import CASES, TASKS, arch_inputs, build_arch  # noqa: E402

TASKS3 = ['seg', 'depth', 'normal']


def reached(arch, feats, tasks):
    """``{task: ids of parameters with a non-zero gradient}``."""
    out = arch(feats, tasks)
    params = [p for p in arch.parameters() if p.requires_grad]
    if not params:
        return {task: set() for task in tasks}
    result = {}
    for task in tasks:
        g = torch.Generator().manual_seed(len(result))
        loss = sum((o * torch.randn(o.shape, generator=g)).sum()
                   for o in out[task])
        grads = torch.autograd.grad(
            loss, params, retain_graph=True, allow_unused=True)
        result[task] = {
            id(p) for p, gr in zip(params, grads)
            if gr is not None and gr.abs().sum() > 0
        }
    return result


# three tasks where the split depends on T
SPLIT_CASES = [(name, TASKS) for name in CASES] + [
    (name, TASKS3) for name in ('PLE', 'CrossStitch', 'NDDR')]


@pytest.mark.parametrize('name,tasks', SPLIT_CASES,
                         ids=[f'{n}-T{len(t)}' for n, t in SPLIT_CASES])
def test_split_matches_gradient_reach(name, tasks):
    arch = build_arch(name, tasks).eval()  # eval BN: no batch coupling
    feats = arch_inputs(name)
    reach = reached(arch, feats, tasks)
    all_ids = {id(p) for p in arch.parameters()}
    specific = {t: {id(p) for p in arch.task_parameters(t)} for t in tasks}
    shared = {id(p) for p in arch.shared_parameters()}
    # a partition of all parameters
    assert shared | set().union(*specific.values()) == all_ids
    for t in tasks:
        assert not shared & specific[t]
        for s in tasks:
            if s != t:
                assert not specific[t] & specific[s]
                # t's own parameters get nothing from task s
                assert not specific[t] & reach[s], (
                    f'{name}: task {s} reaches parameters declared '
                    f'specific to {t}')
        assert specific[t] <= reach[t]
    for t in tasks:  # shared parameters are reached by every task
        assert shared <= reach[t], f'{name}: a shared parameter misses {t}'


def test_expected_split_sizes():
    """Which parts are task-specific, by name."""
    arch = build_arch('CrossStitch')
    names = {n for n, p in arch.named_parameters()
             if any(p is q for q in arch.task_parameters('seg'))}
    # out_indices (0, 1): default mix stages after the stem and stage 0;
    # column stage 1 (features 2-3) and the per-task neck are specific
    assert arch.mix_stages == (0, 1)
    assert names and all(n.startswith(('columns.seg.features.2.',
                                       'columns.seg.features.3.',
                                       'necks.seg.')) for n in names)
    assert {n.split('.')[0] for n in names} == {'columns', 'necks'}
    mtan = build_arch('MTAN')
    assert {id(p) for p in mtan.task_parameters('seg')} == {
        id(p) for p in mtan.attention['seg'].parameters()}
    ple = build_arch('PLE')
    names = {n for n, p in ple.named_parameters()
             if any(p is q for q in ple.task_parameters('depth'))}
    assert {n.rsplit('.', 3)[0].split('.', 2)[1] for n in names} == {'1', '2'}
