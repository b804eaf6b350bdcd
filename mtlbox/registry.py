"""Registries of mtlbox: children of mmengine's root registries, plus BALANCERS.

Every component is found by ``type`` in a config. Registries import their
modules lazily from ``locations`` so ``default_scope='mtlbox'`` is enough for
the Runner to find them. An unknown ``type`` fails with the registry's name and
the closest registered names (:func:`suggest_types`).
"""
import difflib

from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import Registry, build_from_cfg, build_model_from_cfg


class UnknownTypeError(KeyError):
    """A config names a ``type`` that no registry knows."""

    def __str__(self):  # KeyError would repr() the message
        return str(self.args[0])


def suggest_types(name, registry, n=3):
    """Closest registered names to ``name`` in ``registry`` and its parent."""
    registry.import_from_location()
    names = set(registry.module_dict)
    if registry.parent is not None:
        names |= set(registry.parent.module_dict)
    return difflib.get_close_matches(str(name), sorted(names), n=n, cutoff=0.5)


def unknown_type_message(name, registry, where=None):
    close = suggest_types(name, registry)
    hint = (f'did you mean {", ".join(repr(c) for c in close)}?'
            if close else 'no similar name is registered')
    place = f' (config key {where})' if where else ''
    return (f"type={name!r}{place} is not in the {registry.scope}::"
            f'{registry.name} registry; {hint} If it lives in a plugin, add '
            "it to custom_imports=dict(imports=[...]) in the config.")


def _with_suggestions(build_func):

    def build(cfg, registry, *args, **kwargs):
        try:
            return build_func(cfg, registry, *args, **kwargs)
        except KeyError as err:
            obj_type = cfg.get('type') if hasattr(cfg, 'get') else None
            if (isinstance(obj_type, str) and not isinstance(
                    err, UnknownTypeError) and 'is not in the' in str(err)):
                raise UnknownTypeError(
                    unknown_type_message(obj_type, registry)) from None
            raise

    return build


def _child(name, parent, location, build_func=build_from_cfg):
    return Registry(
        name,
        parent=parent,
        locations=[location],
        build_func=_with_suggestions(build_func))


RUNNERS = _child('runner', MMENGINE_RUNNERS, 'mtlbox.engine')
LOOPS = _child('loop', MMENGINE_LOOPS, 'mtlbox.engine')
HOOKS = _child('hook', MMENGINE_HOOKS, 'mtlbox.engine')
LOG_PROCESSORS = _child('log_processor', MMENGINE_LOG_PROCESSORS,
                        'mtlbox.engine')
DATASETS = _child('dataset', MMENGINE_DATASETS, 'mtlbox.datasets')
DATA_SAMPLERS = _child('data sampler', MMENGINE_DATA_SAMPLERS,
                       'mtlbox.datasets')
TRANSFORMS = _child('transform', MMENGINE_TRANSFORMS,
                    'mtlbox.datasets.transforms')
MODELS = _child('model', MMENGINE_MODELS, 'mtlbox.models',
                build_model_from_cfg)
MODEL_WRAPPERS = _child('model_wrapper', MMENGINE_MODEL_WRAPPERS,
                        'mtlbox.engine')
OPTIMIZERS = _child('optimizer', MMENGINE_OPTIMIZERS, 'mtlbox.engine')
OPTIM_WRAPPERS = _child('optim_wrapper', MMENGINE_OPTIM_WRAPPERS,
                        'mtlbox.engine')
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
                                    'mtlbox.engine')
PARAM_SCHEDULERS = _child('parameter scheduler', MMENGINE_PARAM_SCHEDULERS,
                          'mtlbox.engine')
METRICS = _child('metric', MMENGINE_METRICS, 'mtlbox.evaluation')
EVALUATOR = _child('evaluator', MMENGINE_EVALUATOR, 'mtlbox.evaluation')
TASK_UTILS = _child('task util', MMENGINE_TASK_UTILS, 'mtlbox.models')
VISUALIZERS = _child('visualizer', MMENGINE_VISUALIZERS,
                     'mtlbox.visualization')
VISBACKENDS = _child('vis_backend', MMENGINE_VISBACKENDS,
                     'mtlbox.visualization')

def build_balancer(cfg, registry, default_args=None):
    """``build_from_cfg``, plus the key every gradient-level balancer
    takes: ``level='grads'`` (per-task gradients of the shared parameters,
    the default) or ``'features'`` (of the shared feature maps), applied
    with ``BaseBalancer.set_level`` after the build."""
    level = cfg.get('level') if hasattr(cfg, 'get') else None
    if level is None:
        return build_from_cfg(cfg, registry, default_args)
    cfg = {k: v for k, v in cfg.items() if k != 'level'}
    balancer = build_from_cfg(cfg, registry, default_args)
    balancer.set_level(level)
    return balancer


# Loss balancers have no mmengine counterpart: a root of their own.
BALANCERS = Registry(
    'balancer',
    scope='mtlbox',
    locations=['mtlbox.balancers'],
    build_func=_with_suggestions(build_balancer))

# Step strategies, one per balancer family (``balancer.needs``): the owner
# of MultiTaskModel's training step (mtlbox/engine/balanced_step.py).
STEPS = Registry(
    'step',
    scope='mtlbox',
    locations=['mtlbox.engine.balanced_step'],
    build_func=_with_suggestions(build_from_cfg))

ALL_REGISTRIES = dict(
    model=MODELS, dataset=DATASETS, transform=TRANSFORMS, metric=METRICS,
    evaluator=EVALUATOR, hook=HOOKS, loop=LOOPS, balancer=BALANCERS,
    model_wrapper=MODEL_WRAPPERS, optim_wrapper=OPTIM_WRAPPERS,
    optimizer=OPTIMIZERS, param_scheduler=PARAM_SCHEDULERS,
    data_sampler=DATA_SAMPLERS, visualizer=VISUALIZERS,
    vis_backend=VISBACKENDS, task_util=TASK_UTILS,
    log_processor=LOG_PROCESSORS, runner=RUNNERS,
    optim_wrapper_constructor=OPTIM_WRAPPER_CONSTRUCTORS, step=STEPS)
