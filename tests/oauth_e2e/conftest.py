"""Fixtures of the OAuth proxy end-to-end tests: a real upstream, the example app.

* ``proxy_port``: the port the example app will listen on, chosen first
  because the upstream must know the proxy's callback URL before either starts.
* ``catcher``: a loopback HTTP server standing in for a client's redirect URI,
  where browser runs end.
* ``upstream``: ``upstream.mjs`` (npm oidc-provider 9 on Node 22) with one
  confidential client whose redirect URI is ``{proxy}/oauth/callback``
  (and ``catcher``'s, for the harness tests);
  ``.hits()`` lists the requests it answered. Every test runs against two
  of them: ``standard``, and ``resource-indicators``, whose access tokens are
  all JWTs for a resource server (``.resource``), refused by its userinfo
  endpoint, and whose ID tokens carry only the claims asked for with the
  ``claims`` parameter.
* ``proxy``: ``example_app:create_app()`` on gunicorn (2 sync workers) with
  Redis as its store and ``EXAMPLE_OIDC_*`` pointing at ``upstream``, so the
  OAuth proxy runs in front of that issuer; ``.restart()`` restarts gunicorn.
  ``$OAUTH_E2E_APP`` names another app to serve instead (same environment).
  The proxy trusts the test CA of ``documents`` (``REQUESTS_CA_BUNDLE``) and
  may fetch client metadata documents from ``localhost``
  (``EXAMPLE_CIMD_ALLOW_HOSTS``).
* ``documents``: an HTTPS server on loopback (``tests/proxy/documents.py``)
  serving client metadata documents, its certificate signed by ``test_ca``.
"""

from __future__ import annotations

import json
import os
import secrets
import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from proxy.documents import DocumentServer
from proxy.documents import TestCA

from support import GunicornServer
from support import NodeProcess
from support import free_port
from support.processes import HOST

from .browser import RedirectCatcher

UPSTREAM_SCRIPT = Path(__file__).resolve().parent / "upstream.mjs"
UPSTREAM_CLIENT_ID = "flask-mcp-proxy"
#: The resource server of the ``resource-indicators`` upstream.
UPSTREAM_RESOURCE = "https://api.upstream.example/"


@dataclass
class Upstream:
    """The running upstream OIDC provider and its one client."""

    process: NodeProcess
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    #: The resource server its access tokens are for, ``None``: userinfo's.
    resource: str | None = None

    def mark(self) -> int:
        """A position in its log: pass it as ``since`` to :meth:`hits`."""
        return len(self.process.log().splitlines())

    def hits(self, path: str | None = None, since: int = 0) -> list[dict[str, t.Any]]:
        """The requests it answered (``HIT`` lines) since the log line ``since``,
        optionally only at ``path``."""
        found = []
        for line in self.process.log().splitlines()[since:]:
            if line.startswith("HIT "):
                hit = json.loads(line[4:])
                if path is None or hit["path"] == path:
                    found.append(hit)
        return found

    def events(self) -> list[str]:
        """Error events it logged (``EVENT`` lines)."""
        return [
            line[6:]
            for line in self.process.log().splitlines()
            if line.startswith("EVENT ")
        ]

    def metadata(self) -> dict[str, t.Any]:
        reply = requests.get(
            self.issuer + "/.well-known/openid-configuration", timeout=10
        )
        reply.raise_for_status()
        return reply.json()


@dataclass
class Proxy:
    """The example app under gunicorn with the OAuth proxy in front of ``upstream``."""

    server: GunicornServer
    upstream: Upstream

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def mcp_url(self) -> str:
        return self.server.mcp_url

    def restart(self) -> None:
        self.server.restart()


@pytest.fixture(scope="session")
def proxy_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def catcher() -> t.Iterator[RedirectCatcher]:
    """A listening stand-in for an OAuth client's redirect URI (browser tests)."""
    with RedirectCatcher() as server:
        yield server


@pytest.fixture(scope="session", params=["standard", "resource-indicators"])
def upstream(
    request: pytest.FixtureRequest, proxy_port: int, catcher: RedirectCatcher
) -> t.Iterator[Upstream]:
    port = free_port()
    secret = "upstream-" + secrets.token_urlsafe(24)
    redirect_uri = f"http://{HOST}:{proxy_port}/oauth/callback"
    resource = UPSTREAM_RESOURCE if request.param == "resource-indicators" else None
    variant = (
        ["--resource-indicators", resource, "--conform-id-token-claims"]
        if resource
        else []
    )
    process = NodeProcess(
        UPSTREAM_SCRIPT,
        "--port",
        str(port),
        "--client-id",
        UPSTREAM_CLIENT_ID,
        "--client-secret",
        secret,
        "--redirect-uri",
        redirect_uri,
        # Only for the tests of the harness itself, against the upstream alone.
        "--redirect-uri",
        catcher.redirect_uri,
        *variant,
        ready=r"^READY (\{.*\})$",
        port=port,
    )
    with process:
        assert process.match is not None
        ready = json.loads(process.match.group(1))
        yield Upstream(
            process, ready["issuer"], UPSTREAM_CLIENT_ID, secret, redirect_uri, resource
        )
        log = process.log()
    assert "EVENT server_error" not in log, log
    assert "EVENT interaction.error" not in log, log


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("cimd-ca"))


@pytest.fixture(scope="session")
def documents(test_ca: TestCA) -> t.Iterator[DocumentServer]:
    with DocumentServer(test_ca) as server:
        yield server


@pytest.fixture(scope="session")
def proxy(
    redis_server: t.Any,
    upstream: Upstream,
    proxy_port: int,
    test_ca: TestCA,
    tmp_path_factory: pytest.TempPathFactory,
) -> t.Iterator[Proxy]:
    instance = tmp_path_factory.mktemp("oauth-e2e-instance")
    base_url = f"http://{HOST}:{proxy_port}"
    env: dict[str, str | None] = {
        "MCP_STORE_URL": redis_server.url,
        "EXAMPLE_OIDC_ISSUER": upstream.issuer,
        "EXAMPLE_OIDC_CLIENT_ID": upstream.client_id,
        "EXAMPLE_OIDC_CLIENT_SECRET": upstream.client_secret,
        "EXAMPLE_BASE_URL": base_url,
        "EXAMPLE_INSTANCE_PATH": str(instance),
        # Tests register many clients from one address.
        "MCP_OAUTH_REGISTRATIONS": "1000",
        # These flows replay a rotated refresh token at once and expect the
        # family to end; the grace window is tested in tests/proxy.
        "MCP_OAUTH_REFRESH_GRACE": "0",
        # Client metadata documents come from the test server on loopback.
        "REQUESTS_CA_BUNDLE": str(test_ca.ca_file),
        "EXAMPLE_CIMD_ALLOW_HOSTS": "localhost",
        # The other auth modes of the example must not take over.
        "EXAMPLE_API_KEYS": None,
        "EXAMPLE_JWT_ISSUER": None,
        "EXAMPLE_JWT_AUDIENCE": None,
    }
    app = os.environ.get("OAUTH_E2E_APP") or "example_app:create_app()"
    with GunicornServer(
        app, env=env, workers=2, port=proxy_port, clean_log=True
    ) as server:
        assert server.url == base_url
        served = requests.get(
            base_url + "/.well-known/oauth-authorization-server", timeout=10
        )
        if served.status_code != 200:
            pytest.fail(
                f"{app} does not run the OAuth proxy with EXAMPLE_OIDC_ISSUER set: "
                f"GET /.well-known/oauth-authorization-server -> {served.status_code}"
                f"\n--- gunicorn log ---\n{server.log()[-3000:]}"
            )
        yield Proxy(server, upstream)
