"""Keep modules that an import binds but a build never uses from costing start-up time.

Every CI step pays the interpreter's start-up, so imports on the offline path are kept to what
it uses (see BENCHMARKS.md): the HTTP stack and dulwich are imported where they are needed, and
`deferred` covers third-party imports that bind a module at import time only to use it later, if
ever: pydantic-settings imports asyncio (with ssl and socket) for its CLI apps, and pydantic's
plugin loader imports importlib.metadata (with email) to look for plugins, which the CLI turns
off (PYDANTIC_DISABLE_PLUGINS).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import ModuleType


class _Deferred(ModuleType):
    """Bound in place of a module: the first attribute read imports the real module and is
    answered by it, as is every read after that."""

    def __getattr__(self, attr: str) -> object:
        return getattr(_real(self.__name__), attr)


def _real(name: str) -> ModuleType:
    """The real module, imported now if need be (a stand-in still in sys.modules makes way)."""
    if isinstance(sys.modules.get(name), _Deferred):
        del sys.modules[name]
    return importlib.import_module(name)


def _forwarder(module: str, function: str) -> Callable[..., object]:
    """What `from module import function` binds: a call imports the module and calls it."""

    def call(*args: object, **kwargs: object) -> object:
        return getattr(_real(module), function)(*args, **kwargs)

    call.__name__ = call.__qualname__ = function
    call.__module__ = module
    return call


@contextmanager
def deferred(modules: Mapping[str, tuple[str, ...]]) -> Iterator[None]:
    """Within the block, importing a module of `modules` that is not imported yet binds a
    stand-in that imports the real module on first use; `from module import function` binds a
    forwarder for each function listed. After the block, imports are as always."""
    stand_ins: dict[str, ModuleType] = {}
    for name, functions in modules.items():
        if name in sys.modules:
            continue
        stand_in = stand_ins[name] = _Deferred(name)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations is not None:
            stand_in.__path__ = list(spec.submodule_search_locations)  # a package's submodules
        for function in functions:
            setattr(stand_in, function, _forwarder(name, function))
    sys.modules.update(stand_ins)
    try:
        yield
    finally:
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
