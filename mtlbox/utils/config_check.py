"""Check a config before the Runner builds it, so mistakes name their key."""
from typing import Any, List, Tuple

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

#: sub-keys whose types live in another registry than their parent
_KEY_REGISTRY = {
    'pipeline': 'transform',
    'transforms': 'transform',
    'balancer': 'balancer',
    'sampler': 'data_sampler',
    'optimizer': 'optimizer',
    'metrics': 'metric',
    'dataset': 'dataset',
    'val_dataloader': 'dataset',
}


def _walk(node: Any, path: str, registry: str, out: List[Tuple[str, str,
                                                               str]]):
    if isinstance(node, dict):
        if isinstance(node.get('type'), str):
            out.append((path, node['type'], registry))
        for key, value in node.items():
            if key == 'type':
                continue
            _walk(value, f'{path}.{key}', _KEY_REGISTRY.get(key, registry),
                  out)
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


def _metric_task(metric_cfg, registry):
    """The task a metric config evaluates, or None for task-less metrics."""
    import inspect
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
    tree, datasets with their pipelines, metrics, hooks and schedulers.
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
        registry = ALL_REGISTRIES[registry_name]
        if not _lookup(registry, name):
            from mtlbox.registry import UnknownTypeError
            raise UnknownTypeError(
                unknown_type_message(name, registry, where=f'{path}.type'))
