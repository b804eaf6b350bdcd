"""Config mistakes stop the tools before anything is built (#13.5, #14)."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
FLAGSHIP = 'configs/seg_det_depth/amtl_effv2s.py'


def _run(*args):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
        env=dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT),
        timeout=300)


def test_print_config_check_rejects_override_typos():
    proc = _run('tools/analysis/print_config.py', FLAGSHIP, '--check',
                '--cfg-options', 'model.balancer.gama=3.0',
                'train_cfg.max_epoch=2')
    assert proc.returncode != 0
    assert "'gama'" in proc.stderr
    assert "did you mean 'model.balancer.gamma'" in proc.stderr


def test_print_config_check_applies_valid_overrides():
    proc = _run('tools/analysis/print_config.py', FLAGSHIP, '--check',
                '--cfg-options', 'model.balancer.type=PCGrad',
                'train_cfg.max_epochs=5', 'img_scale=(320,320)')
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "type='PCGrad'" in proc.stdout
    assert 'max_epochs=5' in proc.stdout
    assert "type='MTLPad'" in proc.stdout and '(640, 640)' not in proc.stdout


def test_train_rejects_typo_and_unlabelled_head_before_building(tmp_path):
    proc = _run('tools/train.py', FLAGSHIP, '--work-dir', str(tmp_path),
                '--cfg-options', 'model.balancer.gama=3.0')
    assert proc.returncode != 0
    assert "did you mean 'model.balancer.gamma'" in proc.stderr
    assert 'unexpected keyword' not in proc.stderr
    # the VOC source labels only seg now: no source labels det
    proc = _run('tools/train.py', FLAGSHIP, '--work-dir', str(tmp_path),
                '--cfg-options', 'train_dataloader.dataset.tasks.VOC=[seg]')
    assert proc.returncode != 0
    assert "head(s) ['det']" in proc.stderr
    assert "VOC: ['seg']" in proc.stderr and "NYU: ['depth']" in proc.stderr
    assert not os.listdir(tmp_path)  # stopped before the Runner


def test_train_rejects_negative_lr(tmp_path):
    proc = _run('tools/train.py', FLAGSHIP, '--work-dir', str(tmp_path),
                '--cfg-options', 'optim_wrapper.optimizer.lr=-0.001')
    assert proc.returncode != 0
    assert 'optim_wrapper.optimizer.lr=-0.001' in proc.stderr
