"""The house conventions, checked (docs/design.rst, "Conventions").

* ``__all__``: every package's ``__init__.py`` declares one, naming exactly
  what it re-exports (its public API, empty when its modules are imported by
  path); no other module declares one: a module's public names are those
  without a leading underscore.
* Loggers are named by module (``logging.getLogger(__name__)``).

Each test checks every module and lists every offender at once.
"""

from __future__ import annotations
import __future__

import ast
import importlib
import inspect
import types
from pathlib import Path

import flask_mcp

PACKAGE = Path(flask_mcp.__file__).parent
INITS = sorted(PACKAGE.rglob("__init__.py"))
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py")


def _dotted(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _re_export_faults(path: Path) -> list[str]:
    package = importlib.import_module(_dotted(path))
    exported = getattr(package, "__all__", None)
    if not isinstance(exported, list):
        return [f"{_dotted(path)}: no __all__ list"]
    faults = []
    if len(exported) != len(set(exported)):
        faults.append(f"{_dotted(path)}: a name twice in __all__")
    faults += [
        f"{_dotted(path)}: {name} in __all__ does not resolve"
        for name in exported
        if not hasattr(package, name)  # lazy names resolve too
    ]
    bound = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_")
        and not isinstance(value, (types.ModuleType, __future__._Feature))
        and not (inspect.isclass(value) and value.__module__ == "typing")
    }
    faults += [
        f"{_dotted(path)}: {name} is public but not in __all__"
        for name in sorted(bound - set(exported))
    ]
    return faults


def test_a_package_names_exactly_what_it_re_exports() -> None:
    assert [fault for path in INITS for fault in _re_export_faults(path)] == []


def _declares_all(path: Path) -> bool:
    for node in ast.parse(path.read_text()).body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        if any(
            isinstance(target, ast.Name) and target.id == "__all__"
            for target in targets
        ):
            return True
    return False


#: Modules that declare ``__all__`` on purpose, and why.
DECLARES_ALL = {
    # A gunicorn configuration module: ``from flask_mcp.gunicorn import *``
    # in a user's configuration file must bring its settings, not its imports.
    "flask_mcp.gunicorn",
}


def test_only_packages_declare_all() -> None:
    declared = [_dotted(path) for path in MODULES if _declares_all(path)]
    assert [name for name in declared if name not in DECLARES_ALL] == []


#: Loggers named otherwise on purpose, and why.
NAMED_LOGGERS = {
    # The audit trail's logger is an interface operators configure: its name
    # is documented (docs/operations.rst), not an implementation detail.
    "flask_mcp.ops.audit": "flask_mcp.audit",
}


def test_loggers_are_named_by_module() -> None:
    assert [
        _dotted(path)
        for path in MODULES + INITS
        if path.read_text().count("getLogger(")
        != path.read_text().count("getLogger(__name__)")
        and _dotted(path) not in NAMED_LOGGERS
    ] == []
