"""Lazy re-exports for package facades (``agentcore`` and each wing).

A facade names its public symbols and the module each lives in; a symbol's
module is imported on first attribute access, so ``import agentcore.store``
(or importing one module of a wing) costs nothing beyond the facade itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

TYPE_CHECKING = False  # without importing typing: this module is on every start-up path
if TYPE_CHECKING:
    from typing import Any


def lazy_exports(
    package: str, namespace: dict[str, Any], exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for a facade whose public ``exports`` map a
    name to the module defining it; a fetched value is cached in ``namespace``."""
    names = sorted(exports)

    def getattr_(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return names

    return getattr_, dir_
