"""The auth package: small modules and a complete export list.

Its layer (it imports none of components, protocol, transport, extension) is
an import-linter contract in pyproject.toml, checked by ``make lint``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import flask_mcp.auth

AUTH = Path(flask_mcp.auth.__file__).parent


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
