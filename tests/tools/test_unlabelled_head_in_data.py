"""tools/train.py stops before the first step when the built train dataset
labels a head's task in no sample, though the config claims it (#14)."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CONFIG = '''
_base_ = [{base!r}]
_source = dict(type='SynthScenes', num_samples=4, img_size=(32, 32),
               tasks=('seg', 'depth', 'normal'),
               label_prob=dict(normal=0.0))
train_dataloader = dict(
    _delete_=True, batch_size=2, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='PartialMTLDataset', sources=[_source],
                 pipeline=[dict(type='PackMTLInputs')]))
'''


def test_train_stops_when_no_sample_labels_a_head(tmp_path):
    config = tmp_path / 'cfg.py'
    config.write_text(CONFIG.format(
        base=os.path.join(ROOT, 'configs/synth/hps_r18_ew_synth.py')))
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', str(config), '--work-dir',
         str(tmp_path / 'work')],
        cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT),
        capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    assert "head(s) ['normal']" in proc.stderr, proc.stderr[-2000:]
    assert "'seg': 4" in proc.stderr and "'depth': 4" in proc.stderr
    assert 'Epoch(train)' not in proc.stdout + proc.stderr
