"""Names a package exports but imports only on first use (PEP 562).

A worker that never touches auth should not pay for joserfc, requests or
authlib. A package lists its lazy names once, in a table of name -> module,
and gets its ``__getattr__`` here; its ``__all__`` is derived from the same
table. (The ``TYPE_CHECKING`` imports beside it are for type checkers, which
cannot follow a ``__getattr__``; a test keeps them equal to the table.)
"""

from __future__ import annotations

import importlib
import typing as t
from collections.abc import Mapping


def lazy_getattr(
    package: str, table: Mapping[str, str], namespace: dict[str, t.Any]
) -> t.Callable[[str], t.Any]:
    """The module ``__getattr__`` of ``package``: imports ``table[name]``
    (relative to ``package``) and keeps the value in ``namespace``."""

    def __getattr__(name: str) -> t.Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    return __getattr__
