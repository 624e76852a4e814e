"""Fixtures of the OAuth proxy tests.

* ``upstream``: the upstream issuer, the Python test issuer of
  :mod:`support.oidc` on loopback (these tests are about the proxy, not a
  real IdP's behaviour; tests/oauth_e2e runs oidc-provider), with ``.url``,
  ``.stats()``, ``.config()``, ``.next_authorize_error()``,
  ``.next_token_error()``, ``.mint()``.
* ``make_app(**proxy_options)``: the test app (``app.py``) on a fresh
  instance folder, its issuer ``http://localhost`` (Flask's test client).
* ``app``, ``flow``: the default app and a :class:`~flow.Flow` driving it.
* ``documents``: the HTTPS server of client metadata documents
  (:mod:`.documents`), its CA trusted through ``REQUESTS_CA_BUNDLE``;
  ``doc_path``: a path of it no other test uses.
"""

from __future__ import annotations

import re
import time
import typing as t
from pathlib import Path

import pytest
from flask import Flask

from support.oidc import OIDCIssuer

from .app import create_app
from .documents import DocumentServer
from .documents import TestCA
from .flow import FlaskHttp
from .flow import Flow

HERE = Path(__file__).resolve().parent
BASE_URL = "http://localhost"
MCP_URL = BASE_URL + "/mcp"


@pytest.fixture(scope="session")
def upstream() -> t.Iterator[OIDCIssuer]:
    with OIDCIssuer() as issuer:
        yield issuer


@pytest.fixture(autouse=True)
def _reset_upstream(request: pytest.FixtureRequest) -> t.Iterator[None]:
    yield
    if "upstream" in request.fixturenames:
        request.getfixturevalue("upstream").config(expires_in=None)


@pytest.fixture
def make_app(tmp_path: Path, upstream: OIDCIssuer) -> t.Callable[..., Flask]:
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
