import os

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.runner.checkpoint import _load_checkpoint

from mtlbox.compat import UnsafeCheckpointError, safe_load


class _Evil:

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f'touch {self.path}', ))


def test_mmengine_objects_load_with_weights_only(tmp_path):
    hub = MessageHub.get_instance('compat-test')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/loss', 1.5)
    ckpt = dict(
        state_dict={'w': torch.ones(2)},
        message_hub=hub.state_dict(),
        meta=dict(seed=np.int64(3), arr=np.arange(3.0)))
    path = tmp_path / 'ok.pth'
    torch.save(ckpt, path)
    loaded = _load_checkpoint(str(path))  # through mmengine's loader
    assert loaded['message_hub']['log_scalars']['train/loss'].mean() == 1.0
    assert loaded['meta']['seed'] == 3
    np.testing.assert_array_equal(loaded['meta']['arr'], [0.0, 1.0, 2.0])


def test_malicious_pickle_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'x': _Evil(marker)}, path)
    with pytest.raises(UnsafeCheckpointError) as err:
        _load_checkpoint(str(path))
    assert str(path) in str(err.value)
    assert 'system' in str(err.value)
    assert not marker.exists()


def test_getattr_only_for_history_buffer_statistics(tmp_path):

    class Sneaky:

        def __reduce__(self):
            return (getattr, (np.ndarray, 'tofile'))

    path = tmp_path / 'sneaky.pth'
    torch.save({'x': Sneaky()}, path)
    with pytest.raises(UnsafeCheckpointError):
        safe_load(str(path))


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        safe_load(str(tmp_path / 'nope.pth'))


def test_atomic_save_keeps_previous_file_when_interrupted(tmp_path,
                                                          monkeypatch):
    from mmengine.runner import runner as mm_runner

    from mtlbox.compat import atomic_save_checkpoint
    assert mm_runner.save_checkpoint is atomic_save_checkpoint
    path = tmp_path / 'epoch_1.pth'
    atomic_save_checkpoint({'state_dict': {'w': torch.zeros(3)}}, str(path))

    def crash(obj, f, *args, **kwargs):
        f.write(b'partial')
        raise KeyboardInterrupt  # killed in the middle of writing

    monkeypatch.setattr(torch, 'save', crash)
    with pytest.raises(KeyboardInterrupt):
        atomic_save_checkpoint({'state_dict': {'w': torch.ones(3)}}, str(path))
    monkeypatch.undo()
    assert torch.equal(safe_load(str(path))['state_dict']['w'], torch.zeros(3))
    assert [p.name for p in tmp_path.iterdir()] == ['epoch_1.pth']


def test_fixes_are_an_explicit_step_not_an_import_side_effect():
    import subprocess
    import sys
    code = (
        'import mmengine.runner.runner as r\n'
        'from mmengine.runner.checkpoint import CheckpointLoader as L\n'
        'before = r.save_checkpoint, L._schemes[""]\n'
        'import mtlbox, mtlbox.models, mtlbox.balancers\n'
        'assert (r.save_checkpoint, L._schemes[""]) == before, "import"\n'
        'from mtlbox.engine.hooks import MTLCheckpointHook\n'
        'MTLCheckpointHook(interval=1)\n'
        'from mtlbox.compat import atomic_save_checkpoint, safe_load\n'
        'assert r.save_checkpoint is atomic_save_checkpoint\n'
        'assert L._schemes[""] is safe_load\n')
    subprocess.run([sys.executable, '-c', code], check=True)
