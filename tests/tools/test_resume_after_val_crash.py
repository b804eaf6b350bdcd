"""``--resume`` after a run that died during validation (issue #13.3).

The epoch checkpoint is written before validation, so BalancerHook replays
the missed validation for a balancer that learns from it (AMTL). With
``save_best`` that replay finds a new best score and CheckpointHook saves a
best checkpoint: it must be set up (its ``before_train``) by then.
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BASE = os.path.join(ROOT, 'configs/synth/amtl_r18_det_seg_depth_synth.py')

# A metric that grows with every evaluation, across processes, so every
# validation is a new best; with MTLBOX_DIE_AT_VAL=N the process dies (as if
# killed) in the middle of its N-th validation.
CLOCK_METRIC = '''
import os
import time

from mmengine.evaluator import BaseMetric

from mtlbox.registry import METRICS


@METRICS.register_module()
class ClockMetric(BaseMetric):
    default_prefix = 'clock'
    calls = 0

    def process(self, data_batch, data_samples):
        self.results.append(0)

    def compute_metrics(self, results):
        ClockMetric.calls += 1
        if ClockMetric.calls == int(os.environ.get('MTLBOX_DIE_AT_VAL', 0)):
            os._exit(3)
        return dict(time=time.time())
'''

CONFIG = '''
_base_ = [{base!r}]
custom_imports = dict(imports=['clock_metric'], allow_failed_imports=False)
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(num_samples=8, img_size=(32, 32)))
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                      dataset=dict(num_samples=4, img_size=(32, 32)))
test_dataloader = val_dataloader
val_evaluator = dict(metrics=[
    dict(type='VOCMetric', task='det', num_classes=4),
    dict(type='SegMetric', task='seg'),
    dict(type='DepthMetric', task='depth'),
    dict(type='ClockMetric'),
])
train_cfg = dict(val_interval=1)
default_hooks = dict(checkpoint=dict(
    type='CheckpointHook', interval=1, max_keep_ckpts=3,
    save_best='clock/time', rule='greater'))
'''


def _train(config, work_dir, env, *extra):
    return subprocess.run(
        [sys.executable, 'tools/train.py', config, '--work-dir',
         str(work_dir), '--cfg-options', 'max_epochs=3', *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_resume_after_death_during_validation_saves_best(tmp_path):
    (tmp_path / 'clock_metric.py').write_text(CLOCK_METRIC)
    config = tmp_path / 'cfg.py'
    config.write_text(CONFIG.format(base=BASE))
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([ROOT, str(tmp_path)]))
    work = tmp_path / 'work'
    died = _train(str(config), work, dict(env, MTLBOX_DIE_AT_VAL='2'))
    assert died.returncode == 3, died.stderr[-3000:]
    assert (work / 'epoch_2.pth').exists()
    assert (work / 'best_clock_time_epoch_1.pth').exists()
    assert not (work / 'epoch_3.pth').exists()

    resumed = _train(str(config), work, env, '--resume')
    log = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, log[-3000:]
    assert 'replaying the validation of epoch 2' in log
    # the replayed validation of epoch 2 was a new best, then epoch 3's
    assert 'best checkpoint' in log and 'best_clock_time_epoch_2.pth' in log
    assert (work / 'epoch_3.pth').exists()
    assert (work / 'best_clock_time_epoch_3.pth').exists()
    assert not (work / 'best_clock_time_epoch_2.pth').exists()
