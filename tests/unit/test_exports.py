"""Lazy exports: the type checkers' imports and the runtime tables agree."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGES = {"flask_mcp": "_LAZY", "flask_mcp.auth": "_EXPORTS"}


def _type_checking_names(package: str) -> set[str]:
    module = importlib.import_module(package)
    tree = ast.parse(Path(module.__file__ or "").read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for item in node.body:
                if isinstance(item, ast.ImportFrom):
                    names.update(alias.asname or alias.name for alias in item.names)
    return names


@pytest.mark.parametrize(("package", "table"), sorted(PACKAGES.items()))
def test_lazy_names_are_typed_exported_and_importable(package: str, table: str) -> None:
    module = importlib.import_module(package)
    lazy = set(getattr(module, table))
    assert _type_checking_names(package) == lazy
    assert lazy <= set(module.__all__)
    for name in module.__all__:
        assert getattr(module, name) is not None
    with pytest.raises(AttributeError):
        module.not_a_name  # noqa: B018
