"""mtlbox: a multi-task learning toolbox for computer vision."""
from .version import __version__

__all__ = ['__version__', 'register_all_modules']


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every mtlbox module so its components are registered, install
    the mmengine/torch compatibility fixes (:func:`mtlbox.compat.apply`;
    importing mtlbox alone changes nothing in mmengine), and optionally make
    ``mtlbox`` the default registry scope."""
    import datetime

    from mmengine import DefaultScope

    from mtlbox import compat
    compat.apply()

    import mtlbox.balancers  # noqa: F401
    import mtlbox.datasets  # noqa: F401
    import mtlbox.engine  # noqa: F401
    import mtlbox.evaluation  # noqa: F401
    import mtlbox.models  # noqa: F401
    import mtlbox.visualization  # noqa: F401

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None:
        DefaultScope.get_instance('mtlbox', scope_name='mtlbox')
    elif current.scope_name != 'mtlbox':
        stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S.%f')
        DefaultScope.get_instance(f'mtlbox-{stamp}', scope_name='mtlbox')
