"""Check a config before the Runner builds it, so mistakes name their key.

:func:`load_config` is how the tools read a config: ``Config.fromfile`` plus
``--cfg-options``, where an override of a top-level variable (``img_scale``,
``voc_root``, ``max_epochs`` ...) is applied where that variable is assigned,
in whichever file of the ``_base_`` chain, so every dict that uses it sees the
new value; and where an override key that is neither in the config nor an
argument of the class it configures is refused (:class:`ConfigOverrideError`).
:func:`check_config` runs every check on a loaded config.
"""
import ast
import contextlib
import difflib
import inspect
import logging
import math
from typing import Any, Dict, List, Optional, Tuple

from mtlbox.registry import ALL_REGISTRIES, unknown_type_message

#: top-level config key -> registry that builds what it holds
_SECTION_REGISTRY = {
    'model': 'model',
    'train_dataloader.dataset': 'dataset',
    'val_dataloader.dataset': 'dataset',
    'test_dataloader.dataset': 'dataset',
    'custom_hooks': 'hook',
    'val_evaluator': 'metric',
    'test_evaluator': 'metric',
    'param_scheduler': 'param_scheduler',
}

#: sub-keys whose types live in another registry than their parent; None:
#: a ``type`` that names no registered class (``norm_cfg=dict(type='GN',
#: ...)``, checked by the module that reads it)
_KEY_REGISTRY = {
    'norm_cfg': None,
    'pipeline': 'transform',
    'transforms': 'transform',
    'balancer': 'balancer',
    'sampler': 'data_sampler',
    'optimizer': 'optimizer',
    'metrics': 'metric',
    'dataset': 'dataset',
    'val_dataloader': 'dataset',
    'init_cfg': 'weight_initializer',
    'vis_backends': 'vis_backend',
}

#: top-level keys -> registry of their ``type`` (for override checks)
_TOP_REGISTRY = dict(
    _SECTION_REGISTRY, default_hooks='hook', optim_wrapper='optim_wrapper',
    visualizer='visualizer', log_processor='log_processor',
    train_cfg='loop', val_cfg='loop', test_cfg='loop',
    model_wrapper_cfg='model_wrapper')

#: top-level keys the tools or the Runner read besides Runner's arguments
_EXTRA_TOP_KEYS = ('custom_imports', 'model_wrapper_cfg',
                   'find_unused_parameters', 'compile', 'dist_params')


class ConfigOverrideError(KeyError):
    """A ``--cfg-options`` key that nothing in the config would read."""

    def __str__(self):  # KeyError would repr() the message
        return str(self.args[0])


class ConfigValueError(ValueError):
    """A config value that cannot train (learning rate, schedule, labels)."""


def _registry(name):
    if name == 'weight_initializer':
        import mmengine.model  # noqa: F401  (registers the initializers)
        from mmengine.registry import WEIGHT_INITIALIZERS
        return WEIGHT_INITIALIZERS
    return ALL_REGISTRIES[name]


def _walk(node: Any, path: str, registry: str, out: List[Tuple[str, str,
                                                               str]]):
    if isinstance(node, dict):
        if isinstance(node.get('type'), str) and registry is not None:
            out.append((path, node['type'], registry))
        for key, value in node.items():
            if key == 'type':
                continue
            if registry == 'weight_initializer' and key == 'override':
                sub = registry  # init_cfg override=dict(name=..., type=...)
            else:
                sub = _KEY_REGISTRY.get(key, registry)
            _walk(value, f'{path}.{key}', sub, out)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            _walk(value, f'{path}[{i}]', registry, out)


def _lookup(registry, name):
    from mmengine.registry import DefaultScope
    registry.import_from_location()
    if registry.get(name) is not None:
        return True
    with DefaultScope.overwrite_default_scope(None):
        return registry.get(name) is not None


def _get_class(registry, name):
    from mmengine.registry import DefaultScope
    registry.import_from_location()
    cls = registry.get(name)
    if cls is None:
        with DefaultScope.overwrite_default_scope(None):
            cls = registry.get(name)
    return cls


def _metric_task(metric_cfg, registry):
    """The task a metric config evaluates, or None for task-less metrics."""
    cls = registry.get(metric_cfg['type'])
    if cls is None:
        return None
    if 'task' in metric_cfg:
        return metric_cfg['task']
    param = inspect.signature(cls.__init__).parameters.get('task')
    if param is None or param.default is inspect.Parameter.empty:
        return None
    return param.default


def check_config_tasks(cfg) -> None:
    """Every metric names an existing head and every head has a metric.

    Raises ``KeyError`` naming the config key and the valid task names.
    """
    from mtlbox.registry import METRICS
    model = cfg.get('model') or {}
    heads = list((model.get('heads') or {}).keys())
    if not heads:
        return
    balancer_tasks = (model.get('balancer') or {}).get('tasks')
    if balancer_tasks is not None and list(balancer_tasks) != heads:
        raise KeyError(f'model.balancer.tasks={list(balancer_tasks)} must '
                       f'equal the head names {heads} (or be left out)')
    for section in ('val_evaluator', 'test_evaluator'):
        metrics = cfg.get(section)
        if not metrics:
            continue
        if isinstance(metrics, dict):
            metrics = metrics.get('metrics', [metrics])
        covered = set()
        for i, metric in enumerate(metrics):
            task = _metric_task(metric, METRICS)
            if task is None:
                continue
            if task not in heads:
                raise KeyError(f'{section}[{i}] ({metric["type"]}) evaluates '
                               f'task {task!r}, but the model has no such '
                               f'head; valid tasks: {heads}')
            covered.add(task)
        missing = [t for t in heads if t not in covered]
        if missing:
            raise KeyError(f'{section} has no metric for head(s) {missing}; '
                           "add one, e.g. dict(type='SegMetric', "
                           f"task={missing[0]!r}) (valid tasks: {heads})")


def check_config_types(cfg) -> None:
    """Raise ``KeyError`` naming the config key of the first unknown type.

    Only types mtlbox builds through its registries are checked: the model
    tree (``init_cfg`` against mmengine's weight initializers), datasets with
    their pipelines, metrics, hooks and schedulers.
    """
    import mtlbox
    mtlbox.register_all_modules(init_default_scope=True)
    found = []
    for section, registry in _SECTION_REGISTRY.items():
        node = cfg
        for part in section.split('.'):
            node = node.get(part) if hasattr(node, 'get') else None
            if node is None:
                break
        if node is None:
            continue
        if (registry == 'metric' and isinstance(node, dict)
                and 'metrics' in node):  # an evaluator wrapping metrics
            if isinstance(node.get('type'), str):
                found.append((section, node['type'], 'evaluator'))
            _walk(node['metrics'], f'{section}.metrics', 'metric', found)
            continue
        _walk(node, section, registry, found)
    for path, name, registry_name in found:
        if name == 'ConcatDataset' or '.' in name:
            continue  # scoped names (mmengine.X) are resolved by mmengine
        registry = _registry(registry_name)
        if not _lookup(registry, name):
            from mtlbox.registry import UnknownTypeError
            raise UnknownTypeError(
                unknown_type_message(name, registry, where=f'{path}.type'))


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_config_schedule(cfg) -> None:
    """Refuse a learning rate or schedule that cannot train.

    Checked: ``optim_wrapper.optimizer.lr`` (finite, >= 0), the train loop
    length (``max_epochs`` / ``max_iters`` > 0), ``val_interval`` (> 0; one
    longer than training is only warned of, mmengine validates at the last
    epoch anyway), ``val_begin`` (inside training), and every
    ``param_scheduler`` (``end > begin``; one counted in the loop's unit
    must begin inside training, and a warm-up end there too). Raises
    :class:`ConfigValueError` naming the key.
    """
    optim = cfg.get('optim_wrapper') or {}
    optimizers = {}
    if isinstance(optim.get('optimizer'), dict):
        optimizers['optim_wrapper.optimizer'] = optim['optimizer']
    else:  # one optim wrapper per model part: {name: dict(optimizer=...)}
        for name, sub in optim.items():
            if isinstance(sub, dict) and isinstance(sub.get('optimizer'),
                                                    dict):
                optimizers[f'optim_wrapper.{name}.optimizer'] = \
                    sub['optimizer']
    for where, opt in optimizers.items():
        lr = opt.get('lr')
        if lr is not None and (not _is_number(lr) or not math.isfinite(lr)
                               or lr < 0):
            raise ConfigValueError(
                f'{where}.lr={lr!r}: the learning rate must be a finite '
                'number >= 0 (e.g. 1e-3)')

    train_cfg = cfg.get('train_cfg')
    if not isinstance(train_cfg, dict):
        return
    key = 'max_epochs' if 'max_epochs' in train_cfg else 'max_iters'
    by_epoch = key == 'max_epochs'
    length = train_cfg.get(key)
    unit = 'epochs' if key == 'max_epochs' else 'iterations'
    if length is not None:
        if not _is_number(length) or length <= 0:
            raise ConfigValueError(
                f'train_cfg.{key}={length!r}: training must last at least '
                f'one {unit[:-1]} (a positive integer)')
        interval = train_cfg.get('val_interval')
        if interval is not None and _is_number(interval) and interval <= 0:
            raise ConfigValueError(
                f'train_cfg.val_interval={interval!r} must be positive')
        begin = train_cfg.get('val_begin', 1)
        validates = cfg.get('val_dataloader') is not None
        if validates and _is_number(begin) and begin > length:
            raise ConfigValueError(
                f'train_cfg.val_begin={begin} is after the end of training '
                f'(train_cfg.{key}={length}): the model would never be '
                'validated; lower val_begin (or remove val_dataloader/'
                'val_cfg/val_evaluator to train without validation)')
        if validates and _is_number(interval) and interval > length:
            from mmengine.logging import print_log
            print_log(
                f'train_cfg.val_interval={interval} is longer than training '
                f'(train_cfg.{key}={length}): the model is validated once, '
                'at the end', logger='current', level=logging.WARNING)
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for i, sched in enumerate(schedulers):
        if not isinstance(sched, dict):
            continue
        where = f'param_scheduler[{i}] ({sched.get("type")})'
        begin, end = sched.get('begin', 0), sched.get('end')
        if _is_number(begin) and _is_number(end) and end <= begin:
            raise ConfigValueError(
                f'{where}: end={end} must be larger than begin={begin}')
        if length is None or not _is_number(begin):
            continue
        same_unit = sched.get('by_epoch', True) == by_epoch
        if same_unit and begin >= length:
            raise ConfigValueError(
                f'{where}: begin={begin} is not inside training '
                f'(train_cfg.{key}={length} {unit})')
        if same_unit and _is_number(end) and _warmup(sched) and \
                end > length:
            raise ConfigValueError(
                f'{where}: the warm-up ends at {end} {unit}, after training '
                f'(train_cfg.{key}={length}); shorten it (end=...) or train '
                'longer')


def _warmup(sched) -> bool:
    """A scheduler that ramps the learning rate up (a warm-up)."""
    kind = sched.get('type', '')
    return kind in ('LinearLR', 'ConstantLR', 'LinearParamScheduler',
                    'ConstantParamScheduler')


def warmup_outlasts_training(cfg, iters_per_epoch: int) -> Optional[str]:
    """The warning for a warm-up counted in iterations that outlasts an
    epoch-based training (``max_epochs * iters_per_epoch``), or None.

    Needs the train dataloader's length, so tools/train.py asks once the
    loop is built. Only a warning: a short smoke run of a long recipe
    (``max_epochs=1``) is a legitimate thing to do.
    """
    train_cfg = cfg.get('train_cfg') or {}
    epochs = train_cfg.get('max_epochs')
    if not _is_number(epochs) or iters_per_epoch <= 0:
        return None
    total = int(epochs) * int(iters_per_epoch)
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for i, sched in enumerate(schedulers):
        if not isinstance(sched, dict) or sched.get('by_epoch', True) or \
                not _warmup(sched):
            continue
        end = sched.get('end')
        if _is_number(end) and end > total:
            return (f'param_scheduler[{i}] ({sched["type"]}): the warm-up '
                    f'ends at iteration {end}, after training ({epochs} '
                    f'epochs x {iters_per_epoch} iterations = {total}); the '
                    'learning rate never reaches optim_wrapper.optimizer.lr')
    return None


def _source_tasks(source_cfg) -> Optional[List[str]]:
    """The tasks a dataset config labels, where the config or the class
    default says (``tasks=...``); None where only the data can tell."""
    from mtlbox.registry import DATASETS
    if not isinstance(source_cfg, dict):
        return None
    tasks = source_cfg.get('tasks')
    if tasks is None and isinstance(source_cfg.get('type'), str):
        cls = _get_class(DATASETS, source_cfg['type'])
        if cls is not None:
            param = inspect.signature(cls.__init__).parameters.get('tasks')
            if param is not None and isinstance(param.default, (list, tuple)):
                tasks = param.default
    if isinstance(tasks, (list, tuple)) and all(
            isinstance(t, str) for t in tasks):
        return list(tasks)
    return None


def _source_name(source_cfg) -> Optional[str]:
    from mtlbox.registry import DATASETS
    if source_cfg.get('source'):
        return source_cfg['source']
    cls = _get_class(DATASETS, source_cfg.get('type'))
    if cls is None:
        return None
    return getattr(cls, 'SOURCE', None) or cls.__name__


def _unlabelled_heads_message(heads, labelled: Dict[str, List[str]],
                              where: str) -> Optional[str]:
    covered = {t for tasks in labelled.values() for t in tasks}
    missing = [h for h in heads if h not in covered]
    if not missing:
        return None
    per_source = ', '.join(f'{s}: {sorted(t)}' for s, t in labelled.items())
    return (f'head(s) {missing} (model.heads) are labelled by no source of '
            f'{where} ({per_source}); the head would never get a loss. Add '
            "a source that labels it, list it in the dataset's tasks=..., "
            'or remove the head')


def check_config_labels(cfg) -> Optional[bool]:
    """Every head's task is labelled by some source of the train dataset.

    Decided from the config where it says which tasks each source labels
    (:class:`PartialMTLDataset` ``tasks={source: [...]}``, a source's own
    ``tasks=...`` or its class default); raises :class:`ConfigValueError`
    naming the task and the sources. Returns True when the config decided,
    False when there is nothing to check (no heads, not a partial dataset)
    and None when only the data can tell: then :func:`check_dataset_labels`
    checks the built dataset.
    """
    heads = list(((cfg.get('model') or {}).get('heads') or {}).keys())
    dataset = (cfg.get('train_dataloader') or {}).get('dataset')
    if not heads or not isinstance(dataset, dict) or \
            dataset.get('type') != 'PartialMTLDataset':
        return False
    restrict = dataset.get('tasks') or {}
    labelled = {}
    for source in dataset.get('sources') or []:
        name = _source_name(source) if isinstance(source, dict) else None
        if name is None:
            return None
        own = _source_tasks(source)
        keep = restrict.get(name)
        if own is None and keep is None:
            return None  # only the data can tell
        if own is not None and keep is not None:
            tasks = [t for t in own if t in keep]
        else:
            tasks = list(keep if own is None else own)
        labelled[name] = tasks
    message = _unlabelled_heads_message(heads, labelled,
                                        'train_dataloader.dataset')
    if message:
        raise ConfigValueError(message)
    return True


def check_dataset_labels(cfg, dataset) -> None:
    """The built train dataset labels every head's task (reads the data
    infos of a :class:`PartialMTLDataset` once, as its summary does)."""
    heads = list(((cfg.get('model') or {}).get('heads') or {}).keys())
    if not heads or not hasattr(dataset, 'task_counts') or \
            not hasattr(dataset, 'source_names'):
        return
    counts = dataset.task_counts()
    missing = [h for h in heads if counts.get(h, 0) == 0]
    if missing:
        raise ConfigValueError(
            f'head(s) {missing} (model.heads) are labelled by no sample of '
            f'the train dataset (sources {list(dataset.source_names)}; '
            f'labelled samples per task: {counts}); the head would never get '
            "a loss. Add a source that labels it, list it in the dataset's "
            'tasks=..., or remove the head')


def _rewrite_assignments(path: str, values: Dict[str, Any], applied: set):
    """Give the top-level variables of the config file ``path`` named in
    ``values`` those values, where they are assigned."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read())
    changed = False
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            names = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
        elif isinstance(stmt, ast.AnnAssign) and isinstance(
                stmt.target, ast.Name) and stmt.value is not None:
            names = [stmt.target.id]
        else:
            continue
        hit = [n for n in names if n in values]
        if not hit:
            continue
        stmt.value = ast.parse(repr(values[hit[0]]), mode='eval').body
        applied.update(hit)
        changed = True
    if changed:
        with open(path, 'w', encoding='utf-8') as f:
            f.write(ast.unparse(ast.fix_missing_locations(tree)))


@contextlib.contextmanager
def _variables_overridden(values: Dict[str, Any], applied: set):
    """While loading, every config file of the ``_base_`` chain assigns
    ``values`` to its top-level variables of those names, before its
    dicts are built from them. mmengine has no hook for this: the step
    that prepares each file's text (``_pre_substitute_base_vars``, run on
    a temporary copy of every file) is wrapped."""
    from mmengine.config import Config
    original = Config.__dict__['_pre_substitute_base_vars']

    def prepare(filename, temp_config_name):
        result = original.__func__(filename, temp_config_name)
        if temp_config_name.endswith('.py'):
            _rewrite_assignments(temp_config_name, values, applied)
        return result

    Config._pre_substitute_base_vars = staticmethod(prepare)
    try:
        yield
    finally:
        Config._pre_substitute_base_vars = original


def _navigate(node, part):
    """``node[part]`` for a dict key or a list index, else a sentinel."""
    if isinstance(node, dict):
        return node[part] if part in node else _MISSING
    if isinstance(node, (list, tuple)) and part.lstrip('-').isdigit():
        i = int(part)
        return node[i] if -len(node) <= i < len(node) else _MISSING
    return _MISSING


_MISSING = object()


def _registry_of(parts: List[str], node) -> Optional[str]:
    registry = _TOP_REGISTRY.get(parts[0]) if parts else None
    for key in parts[1:]:
        if key.lstrip('-').isdigit():
            continue
        if registry == 'weight_initializer' and key == 'override':
            continue
        registry = _KEY_REGISTRY.get(key, registry)
    if registry == 'metric' and isinstance(node, dict) and 'metrics' in node:
        registry = 'evaluator'
    return registry


def _arguments(fn, skip=('self', )) -> Optional[List[str]]:
    """Argument names of ``fn``; None when it takes ``**kwargs``."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return None
    return [n for n in params if n not in skip]


def _valid_keys(parts: List[str], node) -> Tuple[Optional[List[str]], str]:
    """The keys a config dict at ``parts`` may hold, and what reads them;
    ``(None, ...)`` where anything goes (untyped dicts, ``**kwargs``)."""
    from mmengine.runner import Runner
    always = ['type', '_scope_', '_delete_']
    if not parts:
        return (_arguments(Runner.__init__, ('self', 'cfg')) +
                list(_EXTRA_TOP_KEYS), 'the Runner (a top-level key)')
    where = '.'.join(parts)
    kind = node.get('type')
    if kind is None:
        if parts == ['train_cfg']:
            from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
            loop = EpochBasedTrainLoop if node.get(
                'by_epoch', 'max_epochs' in node) else IterBasedTrainLoop
            return (_arguments(loop.__init__,
                               ('self', 'runner', 'dataloader')) +
                    ['by_epoch'] + always, f'{loop.__name__} ({where})')
        if parts in (['val_cfg'], ['test_cfg']):
            from mmengine.runner import TestLoop, ValLoop
            loop = ValLoop if parts == ['val_cfg'] else TestLoop
            return (_arguments(loop.__init__,
                               ('self', 'runner', 'dataloader', 'evaluator'))
                    + always, f'{loop.__name__} ({where})')
        if len(parts) == 1 and parts[0].endswith('_dataloader'):
            from torch.utils.data import DataLoader
            return (_arguments(DataLoader.__init__) + always,
                    f'torch DataLoader ({where})')
        return None, where
    registry_name = _registry_of(parts, node)
    if not isinstance(kind, str) or registry_name is None:
        return None, where
    cls = _get_class(_registry(registry_name), kind)
    if cls is None:
        return None, where  # check_config_types names the unknown type
    skip = ['self']
    extra = list(always)
    if registry_name == 'param_scheduler':
        skip.append('optimizer')
        extra.append('convert_to_iter_based')
    elif registry_name == 'optim_wrapper':
        extra += ['constructor', 'paramwise_cfg']
    elif registry_name == 'loop':
        skip += ['runner', 'dataloader', 'evaluator']
    elif registry_name == 'optimizer':
        skip.append('params')
    elif registry_name == 'hook':
        extra.append('priority')
    fn = cls.__init__ if inspect.isclass(cls) else cls
    args = _arguments(fn, tuple(skip))
    if args is None:
        return None, where
    return args + extra, f'{getattr(cls, "__name__", kind)} ({where})'


def check_cfg_options(cfg, options: Dict[str, Any]) -> None:
    """Refuse an override key that the config does not have and that is no
    argument of the class configured where it would go.

    ``cfg`` is the config before the overrides are merged (after them,
    a typo would be a key of the config). The class is read from the
    config with the overrides merged, so ``model.balancer.type=PCGrad
    model.balancer.alpha=0.5`` is checked against PCGrad.
    """
    import copy
    from mmengine.config import Config
    plain = cfg.to_dict()
    missing = []
    for full_key, value in options.items():
        parts = full_key.split('.')
        node = plain
        for depth, part in enumerate(parts):
            nxt = _navigate(node, part)
            if nxt is _MISSING:
                break
            node = nxt
        else:
            continue  # the key is in the config
        if isinstance(node, (list, tuple)):
            raise ConfigOverrideError(
                f'--cfg-options {full_key}={value!r}: '
                f'{".".join(parts[:depth]) or "the config"} is a list of '
                f'{len(node)} entries; {parts[depth]!r} is no index of it')
        if isinstance(node, dict):  # else mmengine replaces the value
            missing.append((full_key, value, parts, depth, node))
    if not missing:
        return
    merged = Config(copy.deepcopy(plain))
    merged.merge_from_dict(options)
    merged = merged.to_dict()
    for full_key, value, parts, depth, node in missing:
        # the first new key, then each key below it: the dicts they go into
        # exist only in the merged config
        for level in range(depth, len(parts)):
            parent_parts, key = parts[:level], parts[level]
            merged_node = merged
            for part in parent_parts:
                merged_node = _navigate(merged_node, part)
            if not isinstance(merged_node, dict):
                break
            known = set(node) if level == depth else set()
            _check_new_key(full_key, value, parent_parts, key, merged_node,
                           known)


def _check_new_key(full_key, value, parent_parts, key, merged_node, known):
    valid, reader = _valid_keys(parent_parts, merged_node)
    if valid is None or key in valid:
        return
    candidates = sorted(set(valid) | {str(k) for k in known})
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
    hint = (f'did you mean {".".join(parent_parts + close)!r}?'
            if close else f'valid keys: {candidates}')
    if parent_parts == ['train_cfg'] and key == 'max_iters':
        hint = ('this loop counts epochs: set train_cfg.max_epochs, or '
                'train_cfg.type=IterBasedTrainLoop with max_iters and '
                'without max_epochs')
    raise ConfigOverrideError(
        f'--cfg-options {full_key}={value!r}: {key!r} is not a key of '
        f'the config and not an argument of {reader}; {hint}')


def load_config(filename: str, cfg_options: Optional[Dict[str, Any]] = None,
                check_overrides: bool = True):
    """Read a config and apply ``--cfg-options`` as the tools do.

    An option without a dot that names a top-level variable of the config
    or of any of its ``_base_`` files (``img_scale="(320,320)"``,
    ``voc_root=/data/VOC2012/``, ``max_epochs=2``) is assigned where the
    variable is defined, before the file's dicts are built, so every entry
    computed from it changes. The other options are merged by mmengine
    (``merge_from_dict``) after :func:`check_cfg_options` has checked them
    (when ``check_overrides``).
    """
    from mmengine.config import Config
    options = dict(cfg_options or {})
    variables = {k: v for k, v in options.items()
                 if '.' not in k and not k.startswith('_')}
    applied: set = set()
    if variables:
        with _variables_overridden(variables, applied):
            cfg = Config.fromfile(filename)
    else:
        cfg = Config.fromfile(filename)
    rest = {k: v for k, v in options.items() if k not in applied}
    if rest:
        if check_overrides:
            check_cfg_options(cfg, rest)
        cfg.merge_from_dict(rest)
    return cfg


def check_config(cfg) -> None:
    """Every check of this module, before the Runner builds anything."""
    check_config_types(cfg)
    check_config_tasks(cfg)
    check_config_labels(cfg)
    check_config_schedule(cfg)
