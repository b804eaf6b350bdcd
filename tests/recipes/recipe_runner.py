"""Run tools/train.py and tools/test.py in this process, as a user would
from the command line (same argument parsing, same ``--cfg-options``).

In-process rather than a subprocess: importing torch + mmengine + mtlbox
costs seconds per start on a loaded CPU, and a recipe needs three runs
(train, test, resume). Every run gets its own ``experiment_name`` so that
mmengine's named singletons (logger, message hub, visualizer) of an
earlier run are never reused.
"""
import contextlib
import glob
import importlib.util
import itertools
import json
import os.path as osp
import sys
import time
from typing import Dict, List, Optional, Sequence

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(ROOT, 'tools')
_counter = itertools.count()


def _tool(name):
    """tools/<name>.py as a module (``test.py`` would clash with the
    standard library's ``test`` package under its own name)."""
    if TOOLS not in sys.path:  # as when a tool runs as a script
        sys.path.insert(0, TOOLS)
    spec = importlib.util.spec_from_file_location(
        f'mtlbox_tool_{name}', osp.join(TOOLS, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cfg_options(overrides: Dict[str, object]) -> List[str]:
    """``key=value`` strings for ``--cfg-options`` (DictAction syntax:
    tuples as ``(a,b)``, lists as ``[a,b]``, strings bare)."""

    def fmt(v):
        if isinstance(v, tuple):
            return '(' + ','.join(fmt(x) for x in v) + ')'
        if isinstance(v, list):
            return '[' + ','.join(fmt(x) for x in v) + ']'
        return str(v)

    return [f'{k}={fmt(v)}' for k, v in overrides.items()]


_ENV = []


def _cached_env():
    if not _ENV:
        from mmengine.utils.dl_utils import collect_env
        _ENV.append(collect_env())
    return dict(_ENV[0])


@contextlib.contextmanager
def _without_mmengine_overheads():
    """Two costs of every Runner that say nothing about a recipe, removed
    for the tests (tools/benchmark/recipe_cost.py keeps them): yapf
    beautifying the config text (~4 s each time; the Runner does it for
    the log, the dump, the visualizer and every checkpoint: ~25 s of a
    45 s tiny run) and ``collect_env`` (subprocesses, ~4 s), collected
    once per session. The config text stays valid Python, only
    unformatted."""
    import mmengine.config.config as config_module
    import mmengine.runner.runner as runner_module
    fmt, env = config_module.FormatCode, runner_module.collect_env
    config_module.FormatCode = lambda text, **kwargs: (text, False)
    runner_module.collect_env = _cached_env
    try:
        yield
    finally:
        config_module.FormatCode, runner_module.collect_env = fmt, env


_last_start = [0.0]


def _run(tool: str, args: Sequence[str]):
    # a Runner's log folder is its start time to the second: a second run
    # within the same second would append to the first one's log
    wait = _last_start[0] + 1.05 - time.time()
    if wait > 0:
        time.sleep(wait)
    _last_start[0] = time.time()
    module = _tool(tool)
    argv = sys.argv
    sys.argv = [f'{tool}.py', *args]
    try:
        with _without_mmengine_overheads():
            return module.main()
    finally:
        sys.argv = argv


def _options(config, overrides):
    name = osp.splitext(osp.basename(config))[0]
    opts = dict(overrides,
                experiment_name=f'{name}_recipe{next(_counter)}')
    return ['--cfg-options', *cfg_options(opts)]


def train(config: str, work_dir: str, overrides: Dict[str, object],
          resume: bool = False):
    args = [osp.join(ROOT, config), '--work-dir', work_dir]
    if resume:
        args.append('--resume')
    _run('train', args + _options(config, overrides))


def test(config: str, checkpoint: str, work_dir: str, out: str,
         show_dir: str, overrides: Dict[str, object]) -> Dict[str, float]:
    _run('test', [osp.join(ROOT, config), checkpoint, '--work-dir', work_dir,
                  '--out', out, '--show-dir', show_dir, '--no-progress',
                  '--show-score-thr', '0.0'] + _options(config, overrides))
    with open(out) as f:
        return json.load(f)


def latest_log(work_dir: str) -> str:
    """Text of the newest run log of ``work_dir``."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.log')),
                  key=osp.getmtime)
    assert logs, f'no log under {work_dir}'
    with open(logs[-1]) as f:
        return f.read()


def checkpoint_meta(path: str) -> Optional[dict]:
    from mtlbox.compat import safe_load
    return safe_load(path, map_location='cpu')['meta']
