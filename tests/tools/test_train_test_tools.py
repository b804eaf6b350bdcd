"""End to end through tools/train.py and tools/test.py, as a user runs them."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CONFIG = os.path.join(ROOT, 'configs/synth/hps_r18_ew_synth.py')
TINY_CONFIG = """
_base_ = [{base!r}]
_data = dict(num_samples=8, img_size=(32, 32),
             pipeline=[dict(type='MTLRandomFlip'),
                       dict(type='MTLPhotometricDistortion'),
                       dict(type='PackMTLInputs')])
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=_data)
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                      dataset=dict(num_samples=4, img_size=(32, 32)))
test_dataloader = val_dataloader
train_cfg = dict(val_interval=1)
randomness = dict(seed=0, deterministic=True)
"""


@pytest.fixture(scope='module')
def config(tmp_path_factory):
    # random flips and colour changes: per-sample draws (AugmentationRNGHook)
    # make a resumed run see the data of an uninterrupted one
    path = tmp_path_factory.mktemp('cfg') / 'tiny.py'
    path.write_text(TINY_CONFIG.format(base=CONFIG))
    return str(path)


def run(*args):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise AssertionError(f'{args} failed:\n{proc.stdout[-3000:]}\n'
                             f'{proc.stderr[-3000:]}')
    return proc.stdout + proc.stderr


def train(config, work_dir, epochs, *extra):
    return run('tools/train.py', config, '--work-dir', str(work_dir),
               '--cfg-options', f'train_cfg.max_epochs={epochs}',
               'param_scheduler.1.T_max=3', *extra)


def weights(path):
    from mtlbox.compat import safe_load
    return safe_load(str(path), map_location='cpu')['state_dict']


def test_killed_run_resumes_exactly_and_tests(config, tmp_path):
    """SIGKILL a run after its 2nd checkpoint; resuming gives bit-identical
    weights to an uninterrupted run, with random augmentation, even though
    the interrupted run loads data with 2 persistent workers and the
    uninterrupted one in the main process."""
    workers = ['train_dataloader.num_workers=2',
               'train_dataloader.persistent_workers=True']
    straight = tmp_path / 'straight'
    train(config, straight, 3)
    killed = tmp_path / 'killed'
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT)
    proc = subprocess.Popen(
        [sys.executable, 'tools/train.py', config, '--work-dir', str(killed),
         '--cfg-options', 'train_cfg.max_epochs=3',
         'param_scheduler.1.T_max=3', *workers],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    last = killed / 'last_checkpoint'
    while time.time() < deadline and proc.poll() is None:
        if last.exists() and 'epoch_2.pth' in last.read_text():
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    log = train(config, killed, 3, *workers, '--resume',
                str(killed / 'epoch_2.pth'))
    assert 'resumed epoch: 2' in log
    a = weights(straight / 'epoch_3.pth')
    b = weights(killed / 'epoch_3.pth')
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], msg=key, rtol=0, atol=0)

    out = tmp_path / 'metrics.json'
    log = run('tools/test.py', config, str(straight / 'epoch_3.pth'),
              '--work-dir', str(tmp_path / 'test'), '--out', str(out))
    metrics = json.loads(out.read_text())
    for key in ('seg/mIoU', 'depth/abs_rel', 'normal/mean'):
        assert key in metrics
    assert 0 <= metrics['seg/mIoU'] <= 1
    assert 'seg' in log and 'mIoU=' in log  # the results table


def test_train_rejects_unknown_type_with_key(config, tmp_path):
    with pytest.raises(AssertionError) as err:
        run('tools/train.py', config, '--work-dir', str(tmp_path),
            '--cfg-options', 'model.balancer.type=PCGard')
    assert 'model.balancer.type' in str(err.value)
    assert "'PCGrad'" in str(err.value)


def test_dist_train_two_cpu_processes(config, tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT,
               PYTHON=sys.executable, PORT=str(29500 + os.getpid() % 1000))
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', config, '2', '--work-dir',
         str(tmp_path), '--cfg-options', 'train_cfg.max_epochs=1'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / 'epoch_1.pth').exists()
    assert 'Distributed training is not used' not in proc.stdout + proc.stderr


def test_auto_resume_names_a_dangling_last_checkpoint(tmp_path):
    """--resume without a path whose last_checkpoint names a deleted file:
    an error naming the marker, the missing file and what is left."""
    sys.path.insert(0, os.path.join(ROOT, 'tools'))
    try:
        import train as train_tool
    finally:
        sys.path.pop(0)
    train_tool.check_auto_resume(str(tmp_path))  # no marker: fresh run
    (tmp_path / 'epoch_1.pth').write_bytes(b'')
    marker = tmp_path / 'last_checkpoint'
    marker.write_text(str(tmp_path / 'epoch_1.pth'))
    train_tool.check_auto_resume(str(tmp_path))  # names an existing file
    marker.write_text(str(tmp_path / 'epoch_2.pth'))
    with pytest.raises(FileNotFoundError,
                       match=r'last_checkpoint names .*epoch_2\.pth, which '
                       r"does not exist.*\['epoch_1\.pth'\].*--resume PATH"):
        train_tool.check_auto_resume(str(tmp_path))
    (tmp_path / 'epoch_1.pth').unlink()
    with pytest.raises(FileNotFoundError, match='train without --resume'):
        train_tool.check_auto_resume(str(tmp_path))
