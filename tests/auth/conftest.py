"""Fixtures for the auth tests: stores, a loopback HTTP server, a real issuer."""

from __future__ import annotations

import json
import threading
import typing as t
from collections import Counter
from pathlib import Path

import pytest
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from flask_mcp.store import Store
from flask_mcp.store.backends import MemoryStoreBackend
from support.issuer import MockIssuer
from support.issuer import mock_issuer as start_mock_issuer
from support.loopback import LoopbackServer
from support.slow_upstream import dripping_upstream  # noqa: F401  (fixture)
from support.slow_upstream import huge_upstream  # noqa: F401  (fixture)

HERE = Path(__file__).resolve().parent

Handler = t.Callable[[Request], Response]


@pytest.fixture
def store() -> Store:
    """A fresh process-local store."""
    return Store(MemoryStoreBackend(), "t:")


class LocalServer:
    """A threaded werkzeug server on 127.0.0.1 with per-path handlers and hit
    counts."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._app)

    @property
    def url(self) -> str:
        return self._server.url

    def route(self, path: str, handler: Handler) -> str:
        self.routes[path] = handler
        return self.url + path

    def json(self, path: str, body: t.Any, status: int = 200) -> str:
        return self.route(
            path,
            lambda request: Response(
                json.dumps(body), status, content_type="application/json"
            ),
        )

    def _app(self, environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
        request = Request(environ)
        with self._lock:
            self.hits[request.path] += 1
        handler = self.routes.get(request.path)
        response = handler(request) if handler else Response("not found", 404)
        return response(environ, start_response)

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def http_server() -> t.Iterator[LocalServer]:
    server = LocalServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def mock_issuer() -> t.Iterator[MockIssuer]:
    """One issuer for the session; tests that rotate keys use fresh kids."""
    with start_mock_issuer() as issuer:
        yield issuer
