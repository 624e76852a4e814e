"""The auth package knows nothing of tools, resources, prompts or transport."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import flask_mcp.auth

AUTH = Path(flask_mcp.auth.__file__).parent
FORBIDDEN = (
    "flask_mcp.transport",
    "flask_mcp.protocol",
    "flask_mcp.components",
    "flask_mcp.extension",
)


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # resolve "from ..x import y" against flask_mcp.auth
                base = ["flask_mcp", "auth"][: 3 - node.level]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", sorted(AUTH.glob("*.py")), ids=lambda p: p.name)
def test_auth_modules_stay_in_their_layer(path):
    for name in imported_modules(path):
        assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"
        assert "tool" not in name.lower(), f"{path.name} imports {name}"


@pytest.mark.parametrize("path", sorted(AUTH.glob("*.py")), ids=lambda p: p.name)
def test_modules_are_small(path):
    assert len(path.read_text().splitlines()) < 300


def test_all_is_complete():
    # Exports are imported lazily; each one named in __all__ must resolve.
    assert set(flask_mcp.auth.__all__) == set(flask_mcp.auth._EXPORTS)
    for name in flask_mcp.auth.__all__:
        assert getattr(flask_mcp.auth, name) is not None
    with pytest.raises(AttributeError):
        flask_mcp.auth.not_a_name  # noqa: B018
