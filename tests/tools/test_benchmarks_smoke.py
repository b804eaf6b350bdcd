"""The peer and task-scaling benchmarks run end to end at their smallest
settings (no peers given) and print the table rows they promise."""
import importlib.util
import os.path as osp

import pytest

ROOT = osp.join(osp.dirname(__file__), '..', '..')


def load(name):
    path = osp.join(ROOT, 'tools', 'benchmark', f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'bench_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def table_rows(out, first_header):
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.split()[:1] == [first_header])
    return [line.split() for line in lines[start + 1:]
            if line.strip() and not line.startswith(('plot', 'matplotlib'))]


def test_vs_peers_without_peers(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)  # the demo config path is relative
    vs_peers = load('vs_peers')
    vs_peers.main(['--only', 'PCGrad', '--steps', '2', '--warmup', '0',
                   '--batch-size', '1', '--gramian', '--features',
                   '--memory', '1'])
    out = capsys.readouterr().out
    assert 'skip LibMTL: not given' in out
    assert 'skip TorchJD: not given' in out
    rows = table_rows(out, 'method')
    assert [(r[0], r[1]) for r in rows] == [
        ('floor', 'strict'), ('EW', 'mtlbox'), ('PCGrad', 'mtlbox'),
        ('PCGrad', 'mtlbox-gramian'), ('PCGrad', 'mtlbox-gramian-hooks'),
        ('PCGrad', 'mtlbox-features')]
    floor, ew = rows[0], rows[1]
    assert float(floor[4]) == 1.0 and floor[5] == '1.00-1.00'
    assert float(ew[3]) == pytest.approx(1.0)  # EW / EW
    assert float(ew[-1]) == 0  # +MiB of EW over EW
    assert all(r[-2] == '-' for r in rows)  # no peer, no speed-up


def test_vs_peers_ratios_are_paired_within_a_round(monkeypatch, capsys):
    """The machine slows down by 50 % a round: paired ratios stay the true
    cost ratios (raw medians would not), the references run on both sides
    of a method in turn, and a peer whose step raises is dropped."""
    vs_peers = load('vs_peers')
    clock, order = [0.0], []
    cost = {('floor', 'strict'): 2.0, ('EW', 'mtlbox'): 1.0,
            ('EW', 'LibMTL'): 1.2, ('PCGrad', 'mtlbox'): 2.2,
            ('PCGrad', 'LibMTL'): 3.3, ('MGDA', 'mtlbox'): 2.4}

    def impl(method, name):
        def step(round_):
            order.append((round_, method, name))
            if name == 'TorchJD-autojac':
                raise RuntimeError('peer broken\nsecond line')
            clock[0] += cost[(method, name)] * (1 + 0.5 * round_)
        return vs_peers.Impl(method, name, step)

    impls = [impl('floor', 'strict'), impl('EW', 'mtlbox'),
             impl('EW', 'LibMTL'), impl('PCGrad', 'mtlbox'),
             impl('PCGrad', 'LibMTL'), impl('PCGrad', 'TorchJD-autojac'),
             impl('MGDA', 'mtlbox')]
    monkeypatch.setattr(vs_peers.time, 'perf_counter', lambda: clock[0])
    med = vs_peers.run_rounds(impls, list(range(5)), rounds=4, warmup=1)
    assert 'skip PCGrad TorchJD-autojac: RuntimeError: peer broken' \
        in capsys.readouterr().out
    assert ('PCGrad', 'TorchJD-autojac') not in med
    assert len(impls) == 6
    pc = med[('PCGrad', 'mtlbox')]
    assert pc['floor'] == pytest.approx(1.1)
    assert (pc['q1'], pc['q3']) == pytest.approx((1.1, 1.1))
    assert pc['ew'] == pytest.approx(2.2)
    assert pc['peer'] is None
    assert med[('PCGrad', 'LibMTL')]['peer'] == pytest.approx(1.5)
    assert med[('EW', 'LibMTL')]['peer'] == pytest.approx(1.2)
    assert med[('MGDA', 'mtlbox')]['floor'] == pytest.approx(1.2)
    assert med[('floor', 'strict')]['ew'] == pytest.approx(2.0)
    # raw medians drift with the machine: 2.2 s x (1 + 0.5 x 2.5) in median
    assert pc['ms'] == pytest.approx(2.2 * 2.25 * 1e3)
    # round 1: the references after EW's peers, before PCGrad's, after
    # MGDA's; the broken peer (dropped in round 0) no longer runs
    assert [(m, n) for r, m, n in order if r == 1] == [
        ('EW', 'LibMTL'), ('EW', 'mtlbox'), ('floor', 'strict'),
        ('floor', 'strict'), ('EW', 'mtlbox'), ('PCGrad', 'mtlbox'),
        ('PCGrad', 'LibMTL'), ('MGDA', 'mtlbox'), ('EW', 'mtlbox'),
        ('floor', 'strict')]
    lines = vs_peers.format_table(med)
    assert lines[0].split()[:3] == ['method', 'implementation', 'ms/step']
    assert lines[4].split()[2:] == ['4950.0', '2.20', '1.10', '1.10-1.10',
                                    '-']


def test_task_scaling_smallest(capsys, tmp_path):
    scaling = load('task_scaling')
    png = tmp_path / 'scaling.png'
    scaling.main(['--sizes', '2', '--steps', '1', '--warmup', '0',
                  '--batch-size', '2', '--plot', str(png)])
    out = capsys.readouterr().out
    rows = table_rows(out, 'T')
    assert [(r[0], r[1]) for r in rows] == [
        ('2', 'EW'), ('2', 'PCGrad'), ('2', 'PCGrad-gram'),
        ('2', 'PCGrad-hooks'), ('2', 'PCGrad-feat'), ('2', 'MGDA-UB')]
    assert float(rows[0][3]) == pytest.approx(1.0)
    if 'matplotlib not importable' not in out:
        assert png.stat().st_size > 0


def test_vmap_memory_rows_hold_their_results():
    """Each engine runs in a fresh interpreter with exact large-block
    accounting: the kept per-task gradients (3 x 9 MiB) show in the peak,
    the share of M taken from the inputs holds none of them."""
    vmap_memory = load('vmap_memory')
    rows = vmap_memory.main(['--tasks', '3', '--batch-size', '2',
                             '--chunk', '2', '--repeats', '1'])
    assert [r[0] for r in rows] == ['batched', 'sequential', 'batched x 2',
                                    'from inputs']
    assert [r[2] for r in rows] == [27.0, 27.0, 18.0, 9 * 4 / 2**20]
    for name, peak, size in rows:
        assert peak >= size, (name, peak, size)
    # the share from the inputs forms no weight gradient: far below one
    assert rows[3][1] < rows[1][2] / 3
