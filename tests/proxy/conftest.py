"""Fixtures of the OAuth proxy tests.

* ``upstream``: the real upstream issuer (oauth2-mock-server, Node 22) of
  ``upstream_issuer.mjs``, with ``.url``, ``.stats()``, ``.config()``,
  ``.next_authorize_error()``, ``.next_token_error()``, ``.mint()``.
* ``make_app(**proxy_options)``: the test app (``app.py``) on a fresh
  instance folder, its issuer ``http://localhost`` (Flask's test client).
* ``app``, ``flow``: the default app and a :class:`~flow.Flow` driving it.
* ``documents``: the HTTPS server of client metadata documents
  (:mod:`.documents`), its CA trusted through ``REQUESTS_CA_BUNDLE``;
  ``doc_path``: a path of it no other test uses.
"""

from __future__ import annotations

import json
import re
import time
import typing as t
from pathlib import Path

import pytest
import requests
from flask import Flask

from support import NodeProcess

from .app import create_app
from .documents import DocumentServer
from .documents import TestCA
from .flow import FlaskHttp
from .flow import Flow

HERE = Path(__file__).resolve().parent
BASE_URL = "http://localhost"
MCP_URL = BASE_URL + "/mcp"


class Upstream:
    """Controls of the upstream issuer (see upstream_issuer.mjs)."""

    def __init__(self, process: NodeProcess, url: str) -> None:
        self.process = process
        self.url = url
        self.http = requests.Session()

    def _post(self, path: str, body: dict[str, t.Any]) -> t.Any:
        reply = self.http.post(self.url + path, json=body, timeout=10)
        reply.raise_for_status()
        return reply.json()

    def stats(self) -> dict[str, t.Any]:
        return t.cast(
            dict[str, t.Any],
            self.http.get(self.url + "/admin/stats", timeout=10).json(),
        )

    def config(self, **values: t.Any) -> None:
        self._post("/admin/config", values)

    def next_authorize_error(self, error: str, description: str = "") -> None:
        body = {"error": error} | (
            {"error_description": description} if description else {}
        )
        self._post("/admin/next-authorize-error", body)

    def next_token_error(self, error: str) -> None:
        self._post("/admin/next-token-error", {"error": error})

    def mint(
        self, claims: dict[str, t.Any], header: dict[str, t.Any] | None = None
    ) -> str:
        """A token signed by the upstream issuer."""
        body = {"claims": claims, "header": header or {}}
        return t.cast(str, self._post("/admin/token", body)["token"])


@pytest.fixture(scope="session")
def upstream() -> t.Iterator[Upstream]:
    process = NodeProcess(
        HERE / "upstream_issuer.mjs", "--port", "0", ready=r"^READY (\{.*\})$"
    )
    with process:
        assert process.match is not None
        found = Upstream(process, json.loads(process.match.group(1))["issuer"])
        yield found
        found.http.close()


@pytest.fixture(autouse=True)
def _reset_upstream(request: pytest.FixtureRequest) -> t.Iterator[None]:
    yield
    if "upstream" in request.fixturenames:
        request.getfixturevalue("upstream").config(expires_in=None)


@pytest.fixture
def make_app(tmp_path: Path, upstream: Upstream) -> t.Callable[..., Flask]:
    counter = iter(range(100))

    def make(instance: Path | None = None, **proxy_options: t.Any) -> Flask:
        folder = instance or tmp_path / f"instance-{next(counter)}"
        app = create_app(str(folder), BASE_URL, upstream.url, **proxy_options)
        app.config["TESTING"] = True
        return app

    return make


@pytest.fixture
def app(make_app: t.Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def flow(app: Flask) -> Flow:
    return Flow(FlaskHttp(app.test_client()), MCP_URL)


@pytest.fixture
def make_flow() -> t.Callable[[Flask], Flow]:
    """Another browser (own cookie jar) on an app."""
    return lambda app: Flow(FlaskHttp(app.test_client()), MCP_URL)


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> t.Callable[[float], None]:
    """``later(seconds)``: this process's clock (``time.time``) moves on."""
    real = time.time
    offset = [0.0]
    monkeypatch.setattr(time, "time", lambda: real() + offset[0])
    return lambda seconds: offset.__setitem__(0, offset[0] + seconds)


@pytest.fixture
def issued(monkeypatch: pytest.MonkeyPatch) -> t.Callable[[], list[str]]:
    """``issued()``: the grant types of the tokens this process issued since
    the test began (every issue passes the server's ``save_token``)."""
    from flask_mcp.auth.proxy.authorization_server import ProxyAuthorizationServer

    seen: list[str] = []
    save = ProxyAuthorizationServer.save_token

    def spy(self: t.Any, token: t.Any, request: t.Any) -> None:
        seen.append(str(request.payload.grant_type))
        save(self, token, request)

    monkeypatch.setattr(ProxyAuthorizationServer, "save_token", spy)
    return lambda: list(seen)


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("cimd-ca"))


@pytest.fixture(scope="session")
def document_server(test_ca: TestCA) -> t.Iterator[DocumentServer]:
    with DocumentServer(test_ca) as server:
        yield server


@pytest.fixture
def documents(
    document_server: DocumentServer, test_ca: TestCA, monkeypatch: pytest.MonkeyPatch
) -> DocumentServer:
    """The document server, its CA trusted by the proxy's fetches."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(test_ca.ca_file))
    return document_server


@pytest.fixture
def doc_path(request: pytest.FixtureRequest) -> str:
    """A document path of this test alone (hits are counted per path)."""
    return "/" + re.sub(r"[^A-Za-z0-9_-]", "-", request.node.name) + "/client.json"
