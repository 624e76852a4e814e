"""The house conventions, checked (docs/design.rst, "Conventions").

* ``__all__``: every package's ``__init__.py`` declares one, naming exactly
  what it re-exports (its public API, empty when its modules are imported by
  path); no other module declares one: a module's public names are those
  without a leading underscore.
* Loggers are named by module (``logging.getLogger(__name__)``).
"""

from __future__ import annotations
import __future__

import ast
import importlib
import inspect
import types
from pathlib import Path

import pytest

import flask_mcp

PACKAGE = Path(flask_mcp.__file__).parent
INITS = sorted(PACKAGE.rglob("__init__.py"))
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py")


def _dotted(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize("path", INITS, ids=_dotted)
def test_a_package_names_exactly_what_it_re_exports(path: Path) -> None:
    package = importlib.import_module(_dotted(path))
    exported = getattr(package, "__all__", None)
    assert isinstance(exported, list), f"{path}: no __all__"
    assert len(exported) == len(set(exported)), "a name twice"
    for name in exported:
        getattr(package, name)  # lazy names resolve too
    bound = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_")
        and not isinstance(value, (types.ModuleType, __future__._Feature))
        and not (inspect.isclass(value) and value.__module__ == "typing")
    }
    assert bound <= set(exported), f"public but not in __all__: {bound - set(exported)}"


@pytest.mark.parametrize("path", MODULES, ids=_dotted)
def test_a_module_declares_no_all(path: Path) -> None:
    tree = ast.parse(path.read_text())
    names = [
        target.id
        for node in tree.body
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    ]
    assert "__all__" not in names, "only a package's __init__.py declares __all__"


@pytest.mark.parametrize("path", MODULES + INITS, ids=_dotted)
def test_loggers_are_named_by_module(path: Path) -> None:
    text = path.read_text()
    assert "getLogger(" not in text or "getLogger(__name__)" in text
    assert text.count("getLogger(") == text.count("getLogger(__name__)")
