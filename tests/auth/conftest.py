"""Fixtures for the auth tests: stores, a loopback HTTP server, a real issuer."""

from __future__ import annotations

import json
import threading
import typing as t
from collections import Counter
from pathlib import Path

import pytest
import requests
from werkzeug.serving import WSGIRequestHandler
from werkzeug.serving import make_server
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from flask_mcp.store import Store
from flask_mcp.store.backends import MemoryStoreBackend

HERE = Path(__file__).resolve().parent

Handler = t.Callable[[Request], Response]


@pytest.fixture
def store() -> Store:
    """A fresh process-local store."""
    return Store(MemoryStoreBackend(), "t:")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: t.Any, **kwargs: t.Any) -> None:
        pass


class LocalServer:
    """A threaded werkzeug server on 127.0.0.1 with per-path handlers and hit
    counts."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = make_server(
            "127.0.0.1", 0, self._app, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}"

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
        if not self._thread.is_alive():
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture
def http_server() -> t.Iterator[LocalServer]:
    server = LocalServer()
    yield server
    server.close()


class MockIssuer:
    """oauth2-mock-server (Node 22) run by tests/auth/mock_issuer.mjs."""

    def __init__(self, process: t.Any, issuer: str) -> None:
        self.process = process
        self.issuer = issuer
        self.http = requests.Session()

    def mint(
        self,
        claims: dict[str, t.Any] | None = None,
        *,
        kid: str | None = None,
        header: dict[str, t.Any] | None = None,
        expires_in: int | None = None,
    ) -> str:
        """A token signed by the issuer (key ``kid``, else round robin)."""
        body: dict[str, t.Any] = {"claims": claims or {}, "header": header or {}}
        if kid is not None:
            body["kid"] = kid
        if expires_in is not None:
            body["expiresIn"] = expires_in
        response = self.http.post(f"{self.issuer}/admin/token", json=body, timeout=10)
        response.raise_for_status()
        return t.cast(str, response.json()["token"])

    def add_key(self, alg: str = "RS256", kid: str | None = None) -> dict[str, t.Any]:
        """Rotate in a new key; returns its public JWK."""
        body = {"alg": alg} | ({"kid": kid} if kid else {})
        response = self.http.post(f"{self.issuer}/admin/keys", json=body, timeout=10)
        response.raise_for_status()
        return t.cast(dict[str, t.Any], response.json())

    def hits(self, name: str) -> int:
        """How many requests reached ``name`` (``jwks``, ``openid_configuration``)."""
        stats = self.http.get(f"{self.issuer}/admin/stats", timeout=10).json()
        return int(stats.get(name, 0))

    def stop(self) -> None:
        self.http.close()
        self.process.close()


@pytest.fixture(scope="session")
def mock_issuer() -> t.Iterator[MockIssuer]:
    """One issuer for the session; tests that rotate keys use fresh kids."""
    from support import NodeProcess

    # Node 22 comes from tools/ (``make node``); without it this fails, never skips.
    process = NodeProcess(
        HERE / "mock_issuer.mjs", "--port", "0", ready=r"^READY (\{.*\})$"
    )
    process.start()
    issuer = MockIssuer(process, json.loads(process.match.group(1))["issuer"])
    yield issuer
    issuer.stop()
