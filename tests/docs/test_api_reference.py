"""Every public name is in the API reference (docs/api.rst and the guides).

A name counts as documented when an autodoc directive (or a ``py:data``
entry) names an object that *is* the exported one, wherever the directive
imports it from: ``flask_mcp.require_auth`` is documented by
``.. autodata:: require_auth`` under ``.. module:: flask_mcp.auth``.
"""

from __future__ import annotations

import importlib
import re
import typing as t

import pytest
from docs_helpers import DOCS

#: Modules whose public names must all be documented, and how to list them.
PUBLIC: dict[str, t.Callable[[t.Any], t.Iterable[str]]] = {
    "flask_mcp": lambda module: module.__all__,
    "flask_mcp.auth": lambda module: module.__all__,
    "flask_mcp.auth.providers": lambda module: module.__all__,
    "flask_mcp.auth.proxy": lambda module: module.__all__,
    "flask_mcp.store": lambda module: module.__all__,
    "flask_mcp.tasks": lambda module: module.__all__,
    "flask_mcp.testing": lambda module: ["MCPTestClient", "MCPError", "Answer"],
    "flask_mcp.protocol.inputs": lambda module: [
        "elicitation",
        "url_elicitation",
        "sampling",
        "roots",
        "InputRequest",
    ],
}
#: Public names that are not in an ``__all__``, and the constructors of the
#: components (documented as members of their classes).
EXTRA = [
    "flask_mcp.components.content.Icon",
    "flask_mcp.components.component.RegistrationError",
    "flask_mcp.components.tools.Tool.from_function",
    "flask_mcp.components.resources.Resource.from_function",
    "flask_mcp.components.prompts.Prompt.from_function",
    "flask_mcp.FlaskMCP.test_client",
    "flask_mcp.Context.elicit",
    "flask_mcp.Context.ask",
    "flask_mcp.Context.start_task",
]

_DIRECTIVE = re.compile(
    r"^\s*\.\. (?:auto(?:class|function|data|exception|attribute|method|module)"
    r"|py:module|module|py:currentmodule|currentmodule|py:data)::\s+(\S+)"
)
_MEMBERS = re.compile(r"^\s+:members:\s*(.*)$")


def _resolve(path: str) -> t.Any:
    """The object a dotted path names (a module, then attributes)."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: t.Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(path)


def documented_paths() -> dict[str, set[str] | None]:
    """Dotted paths of everything the reST sources document, each with the
    members its ``:members:`` option lists (``None``: all of them)."""
    paths: dict[str, set[str] | None] = {}
    for page in sorted(DOCS.glob("*.rst")):
        module = ""
        last = ""
        for line in page.read_text().splitlines():
            found = _DIRECTIVE.match(line)
            if found:
                kind = line.split("::")[0]
                target = found.group(1)
                if "module" in kind:
                    module = target
                    paths.setdefault(target, set())
                    continue
                absolute = target.startswith("flask_mcp")
                last = target if absolute else f"{module}.{target}"
                paths.setdefault(last, set())
                continue
            members = _MEMBERS.match(line)
            if members and last:
                listed = set(filter(None, re.split(r"[,\s]+", members.group(1))))
                paths[last] = listed or None
    return paths


def documented(obj: t.Any, member: str | None = None) -> bool:
    """Whether ``obj`` (or its attribute ``member``) is documented."""
    for path, members in documented_paths().items():
        try:
            found = _resolve(path)
        except (ImportError, AttributeError):
            continue  # py:data keys and the like are not importable
        if found is obj and (member is None or members is None or member in members):
            return True
    return False


def public_names() -> list[str]:
    names = []
    for module_name, lister in PUBLIC.items():
        module = importlib.import_module(module_name)
        names += [f"{module_name}.{name}" for name in lister(module)]
    return names + EXTRA


@pytest.mark.parametrize("name", public_names())
def test_public_name_is_documented(name):
    owner, _, member = name.rpartition(".")
    parent = _resolve(owner)
    if isinstance(parent, type):  # a method: its class documents it
        found = documented(parent, member)
    else:
        found = documented(_resolve(name))
    assert found, (
        f"{name} is public but no directive of docs/*.rst documents it;"
        " add it to docs/api.rst"
    )


def test_every_directive_imports():
    """A documented path that stopped existing fails here, before Sphinx."""
    missing = []
    for path in documented_paths():
        try:
            _resolve(path)
        except (ImportError, AttributeError):
            if ".MCP_" not in path:  # configuration keys are not objects
                missing.append(path)
    assert missing == []
