"""Shared pytest fixtures and the test tiers.

Flask-style fixtures (as in Flask's own ``tests/conftest.py``):

* ``mcp``: a fresh :class:`~flask_mcp.FlaskMCP` with nothing registered;
  register tools on it, then use ``client``;
* ``mcp_config``: extra ``app.config`` (``MCP_*`` keys) for ``app``, ``{}``
  by default. Run a test under several configurations by parametrizing it::

      @pytest.mark.parametrize("mcp_config", [{}, {"MCP_STATELESS": True}])
      def test_x(client): ...

* ``app``: a Flask app (``TESTING``, instance folder in ``tmp_path``) with
  ``mcp`` initialised on it;
* ``client`` and ``runner``: its test client and CLI runner;
* ``redis_server``: one throwaway redis-server for the session (per xdist
  worker);
* ``clock``: ``time.time``, ``time.monotonic`` and ``time.sleep`` replaced by
  a clock the test moves (``clock.advance(seconds)``), for TTLs and intervals
  without real waits.

The rules that keep the suite parallel (pytest-xdist) and fast are in
``tests/README.md``.

Helpers that run real servers live in ``tests/support`` (``from support
import GunicornServer, RedisServer, ...``); see its docstring.

Tiers (``unit``, ``http``, ``gunicorn``, ``redis``, ``node``, ``browser``) are
markers set on every test from the code it uses: see ``support/tiers.py``.
``make test-fast`` runs ``unit`` and ``http`` only.
"""

from __future__ import annotations

import time
import typing as t
from collections import Counter
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask.testing import FlaskCliRunner

from flask_mcp import FlaskMCP
from support import RedisServer
from support import tiers
from support.clock import Clock

# ---------------------------------------------------------------------------
# tiers


def pytest_configure(config: pytest.Config) -> None:
    registered = {line.split(":")[0] for line in config.getini("markers")}
    missing = set(tiers.TIERS) - registered
    if missing:
        raise pytest.UsageError(f"tier markers not in pyproject.toml: {missing}")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with its tiers, before ``-m`` selects by them."""
    for item in items:
        found = tiers.infer(item)
        item.stash[tiers.STASH_KEY] = found
        marked = {mark.name for mark in item.iter_markers()}
        for tier in sorted(found - marked):
            item.add_marker(tier)


@pytest.hookimpl(optionalhook=True)  # pytest-xdist is a dev requirement only
def pytest_xdist_make_scheduler(config: pytest.Config, log: t.Any) -> t.Any:
    """Under ``--dist loadscope`` (``make test``): a module per worker, the
    fuzz tests one by one (``support/scheduling.py``)."""
    if config.getvalue("dist") != "loadscope":
        return None
    from support.scheduling import ModuleScheduling

    return ModuleScheduling(config, log)


def pytest_report_collectionfinish(items: list[pytest.Item]) -> str:
    counts = Counter(
        tier for item in items for tier in item.stash.get(tiers.STASH_KEY, ())
    )
    return "tiers: " + ", ".join(f"{tier} {counts[tier]}" for tier in tiers.TIERS)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> t.Iterator[None]:
    """While a test runs (setup to teardown), processes check its tiers."""
    tiers.enter(item)
    try:
        return (yield)
    finally:
        tiers.leave()


# ---------------------------------------------------------------------------
# the Flask-style fixtures


@pytest.fixture
def mcp() -> FlaskMCP:
    """A server with nothing registered; ``app`` initialises it."""
    return FlaskMCP(name="test-server", version="0.0.1")


@pytest.fixture
def mcp_config() -> dict[str, t.Any]:
    """Config of ``app``: parametrize a test with ``mcp_config`` to change it."""
    return {}


@pytest.fixture
def app(mcp: FlaskMCP, mcp_config: dict[str, t.Any], tmp_path: Path) -> Flask:
    """A Flask app serving ``mcp``, its store under its instance folder."""
    app = Flask("flask_mcp_tests", instance_path=str(tmp_path / "instance"))
    app.config.update(TESTING=True, **mcp_config)
    mcp.init_app(app)
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def redis_server() -> t.Iterator[RedisServer]:
    """One throwaway redis-server for the whole session (``.url``, ``.flushall()``).

    Tests that need an empty database call ``redis_server.flushall()`` first.
    """
    with RedisServer() as server:
        yield server


# ---------------------------------------------------------------------------
# time as a seam (tests/README.md, "Time")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A clock the test moves: ``time.time``, ``time.monotonic`` and
    ``time.sleep`` read and move it until the test ends."""
    fake = Clock(time.time(), time.monotonic())
    monkeypatch.setattr(time, "time", fake.time)
    monkeypatch.setattr(time, "monotonic", fake.monotonic)
    monkeypatch.setattr(time, "sleep", fake.sleep)
    return fake
