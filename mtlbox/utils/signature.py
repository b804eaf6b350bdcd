"""Reading a callable's signature (optional keywords of plugin code)."""
import inspect


def takes_arg(method, name: str) -> bool:
    """Whether ``method`` accepts the argument ``name`` (explicitly; a bare
    ``**kwargs`` does not count, so a plugin's catch-all is not mistaken for
    support of an optional protocol keyword)."""
    return name in inspect.signature(method).parameters
