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
        if node is not None:
            _walk(node, section, registry, found)
    for path, name, registry_name in found:
        if name == 'ConcatDataset' or '.' in name:
            continue  # scoped names (mmengine.X) are resolved by mmengine
        registry = ALL_REGISTRIES[registry_name]
        if not _lookup(registry, name):
            from mtlbox.registry import UnknownTypeError
            raise UnknownTypeError(
                unknown_type_message(name, registry, where=f'{path}.type'))
