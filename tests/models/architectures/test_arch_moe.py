"""MMoE / CGC / PLE / DSelect-k: gates, combinations, shapes."""
import pytest
import torch

from mtlbox.models.architectures import CGC, PLE, DSelectK, MMoE
from mtlbox.models.architectures.dselect_k import DSelectKGate, smooth_step

TASKS = ['seg', 'depth', 'normal']


def _feats():
    torch.manual_seed(0)
    return [torch.randn(4, 6, 8, 8), torch.randn(4, 10, 4, 4)]


def test_mmoe_gates_sum_to_one_and_combine_experts():
    arch = MMoE([6, 10], tasks=TASKS, num_experts=3).eval()
    feats = _feats()
    with torch.no_grad():
        out = arch(feats, TASKS)
        experts = [e(feats) for e in arch.experts]
    for task in TASKS:
        w = arch.last_gate_weights[task]
        assert w.shape == (4, 3)
        torch.testing.assert_close(w.sum(1), torch.ones(4))
        assert torch.all(w > 0)
        for l in range(2):  # sum_e w[n, e] * expert_e(f)[n] by hand
            for n in range(4):
                expected = sum(w[n, e] * experts[e][l][n] for e in range(3))
                torch.testing.assert_close(out[task][l][n], expected)
    # gates differ per task, experts are shared
    assert not torch.allclose(arch.last_gate_weights['seg'],
                              arch.last_gate_weights['depth'])


def test_gate_input_is_the_global_average():
    arch = MMoE([6, 10], tasks=['a'], num_experts=2).eval()
    feats = _feats()
    arch(feats, ['a'])
    d = torch.cat([feats[0].mean((2, 3)), feats[1].mean((2, 3))], 1)
    lin = arch.gates['a'].linear
    torch.testing.assert_close(arch.last_gate_weights['a'],
                               torch.softmax(lin(d), 1).detach())


def test_cgc_gate_covers_own_and_shared_experts():
    arch = CGC([6, 10], tasks=TASKS, num_shared_experts=2,
               num_task_experts=3).eval()
    out = arch(_feats(), TASKS)
    for task in TASKS:
        w = arch.last_gate_weights[task]
        assert w.shape == (4, 5)
        torch.testing.assert_close(w.sum(1), torch.ones(4))
        assert [tuple(o.shape) for o in out[task]] == [(4, 6, 8, 8),
                                                       (4, 10, 4, 4)]
    assert len(arch.layers) == 1 and arch.layers[0].shared_gate is None


def test_ple_layers_and_shared_gates():
    arch = PLE([6, 10], tasks=TASKS, num_layers=3, num_shared_experts=2,
               num_task_experts=1).eval()
    assert [l.shared_gate is not None for l in arch.layers] == [True, True,
                                                                False]
    # the shared gate mixes every task's experts and the shared ones
    assert arch.layers[0].shared_gate.linear.out_features == 3 * 1 + 2
    out = arch(_feats(), ['depth'])
    assert list(out) == ['depth']
    with pytest.raises(ValueError, match='num_layers=0'):
        PLE([6], tasks=TASKS, num_layers=0)


def test_smooth_step_values():
    t = torch.tensor([-1.0, -0.5, 0.0, 0.25, 0.5, 2.0])
    expected = torch.tensor([0.0, 0.0, 0.5, 0.84375, 1.0, 1.0])
    torch.testing.assert_close(smooth_step(t, 1.0), expected)


def test_dselect_k_gate_sums_to_one_and_selects():
    torch.manual_seed(0)
    gate = DSelectKGate(5, num_experts=4, k=2, gamma=1.0)
    d = torch.randn(3, 5)
    w = gate(d)
    assert w.shape == (3, 4)
    torch.testing.assert_close(w.sum(1), torch.ones(3))
    # saturated selectors: selector 0 bits (1, 1) -> expert 3, selector 1
    # bits (0, 1) -> expert 2; mixing weights softmax(0, log 3) = (1/4, 3/4)
    with torch.no_grad():
        gate.z_logits.weight.zero_()
        gate.z_logits.bias.copy_(torch.tensor([5., 5., -5., 5.]))
        gate.w_logits.weight.zero_()
        gate.w_logits.bias.copy_(torch.tensor([0., float(torch.log(
            torch.tensor(3.)))]))
    w = gate(d)
    torch.testing.assert_close(w, torch.tensor([[0., 0., 0.75, 0.25]] * 3))


def test_dselect_k_non_power_of_two_folds_extra_codes():
    torch.manual_seed(0)
    gate = DSelectKGate(5, num_experts=3, k=1)
    assert gate.num_bits == 2
    w = gate(torch.randn(8, 5) * 10)
    assert w.shape == (8, 3)
    torch.testing.assert_close(w.sum(1), torch.ones(8))
    with torch.no_grad():  # saturate on code 3 (bits 1, 1): expert 0
        gate.z_logits.weight.zero_()
        gate.z_logits.bias.fill_(5.0)
    torch.testing.assert_close(gate(torch.randn(2, 5)),
                               torch.tensor([[1., 0., 0.]] * 2))


def test_dselect_k_architecture():
    arch = DSelectK([6, 10], tasks=TASKS, num_experts=4, k=2).eval()
    out = arch(_feats(), TASKS)
    for task in TASKS:
        torch.testing.assert_close(arch.last_gate_weights[task].sum(1),
                                   torch.ones(4))
        assert [tuple(o.shape) for o in out[task]] == [(4, 6, 8, 8),
                                                       (4, 10, 4, 4)]
