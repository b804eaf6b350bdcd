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
    vs_peers.main(['--only', 'PCGrad', '--steps', '1', '--warmup', '0',
                   '--batch-size', '1', '--gramian', '--features',
                   '--memory', '1'])
    out = capsys.readouterr().out
    assert 'skip LibMTL: not given' in out
    assert 'skip TorchJD: not given' in out
    rows = table_rows(out, 'method')
    assert [(r[0], r[1]) for r in rows] == [
        ('floor', 'strict'), ('EW', 'mtlbox'), ('PCGrad', 'mtlbox'),
        ('PCGrad', 'mtlbox-gramian'), ('PCGrad', 'mtlbox-features')]
    ew = rows[1]
    assert float(ew[3]) == pytest.approx(1.0)  # EW / EW
    assert float(ew[-1]) == 0  # +MiB of EW over EW
    assert all(r[-2] == '-' for r in rows)  # no peer, no speed-up


def test_task_scaling_smallest(capsys, tmp_path):
    scaling = load('task_scaling')
    png = tmp_path / 'scaling.png'
    scaling.main(['--sizes', '2', '--steps', '1', '--warmup', '0',
                  '--batch-size', '2', '--plot', str(png)])
    out = capsys.readouterr().out
    rows = table_rows(out, 'T')
    assert [(r[0], r[1]) for r in rows] == [
        ('2', 'EW'), ('2', 'PCGrad'), ('2', 'PCGrad-gram'),
        ('2', 'PCGrad-feat'), ('2', 'MGDA-UB')]
    assert float(rows[0][3]) == pytest.approx(1.0)
    if 'matplotlib not importable' not in out:
        assert png.stat().st_size > 0
