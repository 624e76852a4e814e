"""Read configuration keys, their defaults and their ``#:`` comments from source.

The configuration page is generated from the code, so a key added to
``flask_mcp/config.py`` (or a field added to a limits dataclass whose fields
are keys too) appears in the docs with its default and its comment, and a
changed default can never disagree with the page. Sphinx-free, so the tests
can use it.
"""

from __future__ import annotations

import ast
import importlib.util
import pathlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigKey:
    """One key: its name, its default as written in the source, its comment."""

    name: str
    default: str
    doc: str


def module_source(module: str) -> str:
    """The source of ``module``, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ImportError(f"cannot find module {module!r}")
    return pathlib.Path(spec.origin).read_text(encoding="utf-8")


def config_keys(
    source: str, *, prefix: str = "MCP_", dataclass_name: str | None = None
) -> list[ConfigKey]:
    """The keys of a module, in source order.

    :param source: the module's source.
    :param prefix: module-level names starting with it are keys; with
        ``dataclass_name``, the key of a field is ``prefix + FIELD``.
    :param dataclass_name: read the fields of this class instead of the
        module's names.
    :raises ValueError: when a key has no ``#:`` comment, or the class is
        missing: the page must never show a key nobody described.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    body: list[ast.stmt] = tree.body
    if dataclass_name is not None:
        found = [
            node
            for node in tree.body
            if isinstance(node, ast.ClassDef) and node.name == dataclass_name
        ]
        if not found:
            raise ValueError(f"no class {dataclass_name!r} in the source")
        body = found[0].body
    keys = []
    for node in body:
        target, value = _assignment(node)
        if target is None or value is None:
            continue
        if dataclass_name is None:
            if not target.startswith(prefix):
                continue
            name = target
        else:
            if target.startswith("_"):
                continue
            name = prefix + target.upper()
        doc = _comment_above(lines, node.lineno)
        if not doc:
            raise ValueError(f"{name} has no #: comment in the source")
        default = ast.get_source_segment(source, value) or ast.unparse(value)
        keys.append(ConfigKey(name, default, doc))
    return keys


def _assignment(node: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, node.value
    if (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
    ):
        return node.targets[0].id, node.value
    return None, None


def _comment_above(lines: list[str], lineno: int) -> str:
    """The ``#:`` lines right above line ``lineno`` (1-based), joined."""
    found: list[str] = []
    index = lineno - 2
    while index >= 0 and lines[index].strip().startswith("#:"):
        found.append(lines[index].strip()[2:].strip())
        index -= 1
    return " ".join(reversed(found))


def render(keys: list[ConfigKey], module: str) -> list[str]:
    """reST for the keys: a summary table, then one ``py:data`` entry each
    (the form Flask's configuration page uses)."""
    out = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 35 65",
        "",
        "   * - Key",
        "     - Default",
    ]
    for key in keys:
        out += [f"   * - :data:`~{module}.{key.name}`", f"     - ``{key.default}``"]
    out += ["", f".. py:currentmodule:: {module}", ""]
    for key in keys:
        out += [
            f".. py:data:: {key.name}",
            "",
            f"   {key.doc}",
            "",
            f"   Default: ``{key.default}``",
            "",
        ]
    return out
