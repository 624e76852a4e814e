"""Fixtures of the docs tests: load a ``docs/examples/*.py`` file as a module.

Every example is imported exactly as a user would run it. The only change
is where Flask puts the instance folder (the file store and generated keys
live there): a temporary directory instead of ``docs/examples/instance``.
"""

from __future__ import annotations

import importlib.util
import sys
import types
import typing as t
from pathlib import Path

import pytest
from docs_helpers import EXAMPLES
from flask import Flask

from support.issuer import MockIssuer
from support.issuer import mock_issuer


@pytest.fixture
def load_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> t.Callable[..., types.ModuleType]:
    """``load_example("quickstart", env={...}, alias="app")``: the module.

    :param env: environment variables set before the import (most examples
        read their secrets and issuer URLs from the environment).
    :param alias: also register the module under this name in
        ``sys.modules``, for examples that import it (``from app import app``).
    """
    instance = tmp_path / "instance"
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(instance))

    def load(
        name: str, *, env: t.Mapping[str, str] | None = None, alias: str | None = None
    ) -> types.ModuleType:
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        module_name = f"docs_example_{name}"
        spec = importlib.util.spec_from_file_location(
            module_name, EXAMPLES / f"{name}.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, module_name, module)
        if alias is not None:
            monkeypatch.setitem(sys.modules, alias, module)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope="module")
def issuer() -> t.Iterator[MockIssuer]:
    """A real JWT issuer on loopback (oauth2-mock-server, Node 22)."""
    with mock_issuer() as running:
        yield running
