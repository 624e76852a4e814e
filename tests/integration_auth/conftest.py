"""Fixtures of the auth integration tests: gunicorn servers and a real issuer.

* ``auth_server``: ``tests.integration_auth.apps:create_app()`` on gunicorn
  (2 sync workers), oauth setting in snake_case, publishing authorization
  server metadata for an issuer on its own host with a path
  (``/tenant-1``); ``.counter`` and ``.revoked`` are its files.
* ``camel_server``: the same app with the oauth setting in camelCase.
* ``issuer``: oauth2-mock-server (Node 22) through tests/auth/mock_issuer.mjs,
  with ``mint()``, ``add_key()`` and ``hits()`` (``support.issuer``).
* ``jwt_server``: the example app under gunicorn in JWT mode against ``issuer``.
"""

from __future__ import annotations

import contextlib
import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import GunicornServer
from support import free_port
from support.issuer import MockIssuer
from support.issuer import mock_issuer

from .helpers import Http

APP = "tests.integration_auth.apps:create_app()"


@dataclass
class Served:
    """A running gunicorn server and what the tests need to know about it."""

    server: GunicornServer
    http: Http
    counter: Path
    revoked: Path
    issuer: str

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def mcp_url(self) -> str:
        return self.server.mcp_url

    def calls(self, tag: str) -> list[str]:
        """``authenticate`` calls of requests sent with ``X-Test-Tag: tag``."""
        lines = self.counter.read_text().splitlines() if self.counter.exists() else []
        return [line.split(" ", 1)[1] for line in lines if line.split(" ")[0] == tag]


@contextlib.contextmanager
def serve_app(
    tmp: Path, oauth: str, extra_env: t.Mapping[str, str] | None = None
) -> t.Iterator[Served]:
    """``apps.create_app()`` on gunicorn; its issuer is on its own host."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}/tenant-1"
    counter, revoked = tmp / "counter.txt", tmp / "revoked.txt"
    env: dict[str, str | None] = {
        "INTEGRATION_AUTH_INSTANCE": str(tmp / "instance"),
        "INTEGRATION_AUTH_OAUTH": oauth,
        "INTEGRATION_AUTH_ISSUER": issuer,
        "INTEGRATION_AUTH_COUNTER": str(counter),
        "INTEGRATION_AUTH_REVOKED": str(revoked),
        "MCP_STORE_URL": None,
        **(extra_env or {}),
    }
    with GunicornServer(
        app=APP, env=env, workers=2, port=port, clean_log=True
    ) as server:
        http = Http(url=server.url)
        yield Served(server, http, counter, revoked, issuer)
        http.close()


@pytest.fixture(scope="session")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[Served]:
    with serve_app(tmp_path_factory.mktemp("auth-server"), "snake") as served:
        yield served


@pytest.fixture(scope="session")
def camel_server(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[Served]:
    with serve_app(tmp_path_factory.mktemp("camel-server"), "camel") as served:
        yield served


# ---------------------------------------------------------------------------
# a real issuer


@pytest.fixture(scope="session")
def issuer() -> t.Iterator[MockIssuer]:
    with mock_issuer() as found:
        yield found


@dataclass
class JwtServed:
    server: GunicornServer
    http: Http
    issuer: MockIssuer
    audience: str

    @property
    def mcp_url(self) -> str:
        return self.server.mcp_url


@contextlib.contextmanager
def serve_jwt_example(tmp: Path, issuer: MockIssuer) -> t.Iterator[JwtServed]:
    """The example app in JWT mode; its audience is its own MCP URL (RFC 8707)."""
    port = free_port()
    audience = f"http://127.0.0.1:{port}/mcp"
    env: dict[str, str | None] = {
        "EXAMPLE_INSTANCE_PATH": str(tmp / "instance"),
        "EXAMPLE_JWT_ISSUER": issuer.url,
        "EXAMPLE_JWT_AUDIENCE": audience,
        "EXAMPLE_API_KEYS": None,
        "MCP_STORE_URL": None,
    }
    with GunicornServer(
        app="example_app:create_app()", env=env, workers=2, port=port, clean_log=True
    ) as server:
        http = Http(url=server.url)
        yield JwtServed(server, http, issuer, audience)
        http.close()


@pytest.fixture(scope="module")
def jwt_server(
    tmp_path_factory: pytest.TempPathFactory, issuer: MockIssuer
) -> t.Iterator[JwtServed]:
    with serve_jwt_example(tmp_path_factory.mktemp("jwt-server"), issuer) as served:
        yield served
