"""Names of a package that load their module on first use (PEP 562), for packages whose ``__init__`` gathers
names from modules that most importers never need. Static type checkers still see the names: the package
imports them under ``TYPE_CHECKING`` as well."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, exports: Mapping[str, tuple[str, ...]]) -> Callable[[str], Any]:
    """The package's module-level ``__getattr__``: ``exports`` maps a submodule (relative to ``package``) to the
    names it gives the package."""
    module_of = {name: module for module, names in exports.items() for name in names}

    def load(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return load
