"""The apps the fuzz tests attack, and the count of cases in the summary.

* ``example_client``: the example app (no auth), module-wide, with short
  stream holds so a GET stream ends at once;
* ``proxy_client``: the example app in OAuth proxy mode, its upstream a
  loopback OpenID provider (``upstream``) serving discovery and JWKS only:
  fuzzed requests never get as far as a real login.

Both run with ``TESTING`` off, so an unhandled exception becomes what a user
would get, a 500 and a logged traceback, instead of propagating.
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import Headers
from werkzeug.test import run_wsgi_app
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from example_app import create_app
from support.loopback import LoopbackServer

from .harness import CASES
from .harness import EXAMPLES
from .harness import KNOWN_MET

#: Every EXAMPLE_* variable: the fixtures set the ones their mode needs.
EXAMPLE_ENV = [
    "EXAMPLE_API_KEYS",
    "EXAMPLE_JWT_ISSUER",
    "EXAMPLE_JWT_AUDIENCE",
    "EXAMPLE_OIDC_ISSUER",
    "EXAMPLE_OIDC_CLIENT_ID",
    "EXAMPLE_OIDC_CLIENT_SECRET",
    "EXAMPLE_BASE_URL",
    "GOOGLE_CLIENT_ID",
    "MCP_STORE_URL",
]
#: Short waits: a fuzzed GET stream or unanswered elicitation ends at once.
FAST = {"MCP_STREAM_HOLD": 0.05, "MCP_REQUEST_TIMEOUT": 0.3}


def _example_app(
    instance: Path, env: dict[str, str], config: dict[str, t.Any] | None = None
) -> Flask:
    with pytest.MonkeyPatch.context() as patch:
        for name in EXAMPLE_ENV:
            patch.delenv(name, raising=False)
        patch.setenv("EXAMPLE_INSTANCE_PATH", str(instance))
        for name, value in env.items():
            patch.setenv(name, value)
        app = create_app({**FAST, **(config or {})})
    app.config["TESTING"] = False
    return app


@pytest.fixture(scope="module")
def example_client(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    app = _example_app(tmp_path_factory.mktemp("fuzz-mcp"), {})
    app.test_client_class = _CookielessClient
    return app.test_client(use_cookies=False)


class _CookielessClient(FlaskClient):
    """A test client without cookies (MCP has none). Werkzeug 3.1.0's client
    reads the request's URL back after the app has answered, to store its
    cookies, and raises on a Host whose port is no number (``:A``), which
    the app itself answers with 403."""

    def run_wsgi_app(
        self, environ: dict[str, t.Any], buffered: bool = False
    ) -> tuple[t.Iterable[bytes], str, Headers]:
        return run_wsgi_app(self.application, environ, buffered=buffered)


def _upstream_app(environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
    """An OpenID provider that publishes its metadata and an empty key set."""
    request = Request(environ)
    issuer = request.host_url.rstrip("/")
    documents = {
        "/.well-known/openid-configuration": {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "userinfo_endpoint": f"{issuer}/userinfo",
            "jwks_uri": f"{issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        },
        "/jwks": {"keys": []},
    }
    document = documents.get(request.path)
    if document is None:
        response = Response('{"error": "not_found"}', 404, mimetype="application/json")
    else:
        response = Response(json.dumps(document), mimetype="application/json")
    return response(environ, start_response)


@pytest.fixture(scope="session")
def upstream() -> t.Iterator[LoopbackServer]:
    with LoopbackServer(_upstream_app) as server:
        yield server


@pytest.fixture(scope="module")
def proxy_app(
    tmp_path_factory: pytest.TempPathFactory, upstream: LoopbackServer
) -> Flask:
    env = {
        "EXAMPLE_OIDC_ISSUER": upstream.url,
        "EXAMPLE_OIDC_CLIENT_ID": "fuzz-client",
        "EXAMPLE_OIDC_CLIENT_SECRET": "fuzz-secret",
        "EXAMPLE_BASE_URL": "http://localhost",
        # The upstream stands in for an enterprise IdP too (the JWT bearer
        # grant is served, and every assertion checked against its keys).
        "EXAMPLE_IDJAG_ISSUER": upstream.url,
    }
    # Every fuzzed request must reach the code, so registrations are not
    # rate-limited here (the limit has its own tests).
    return _example_app(
        tmp_path_factory.mktemp("fuzz-proxy"), env, {"MCP_OAUTH_REGISTRATIONS": 0}
    )


def pytest_terminal_summary(terminalreporter: t.Any) -> None:
    if not CASES:
        return
    per_kind = ", ".join(f"{kind} {count}" for kind, count in sorted(CASES.items()))
    terminalreporter.write_line(
        f"fuzz: {sum(CASES.values())} requests sent ({per_kind}); "
        f"up to {EXAMPLES} examples per test"
    )
    if KNOWN_MET:
        met = ", ".join(f"{sig} x{count}" for sig, count in KNOWN_MET.most_common())
        terminalreporter.write_line(f"fuzz: known failures met (not raised): {met}")
