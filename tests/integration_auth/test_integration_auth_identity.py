"""Every way in on one endpoint, on gunicorn (2 workers, Redis), with the
official MCP client: OAuth through the proxy in front of Keycloak (the test
issuer set up as Keycloak), static and managed API keys, and downstream
tokens by RFC 8693 token exchange, cached across workers. Each refusal is
checked for its error and for nothing issued."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import types
import typing as t

import httpx2
import pytest
import requests
from mcp.client.auth.utils import extract_resource_metadata_from_www_auth
from oauth_e2e.browser import RedirectCatcher
from oauth_e2e.helpers import official_client
from oauth_e2e.helpers import tool_text

from support import REPO_ROOT
from support import GunicornServer
from support import free_port
from support.mcp_post import ACCEPT
from support.mcp_post import INIT
from support.oidc import TOKEN_EXCHANGE
from support.oidc import Client
from support.oidc import IssuerSettings
from support.oidc import OIDCIssuer
from support.oidc import User
from support.oidc import flavours

from . import official
from .identity_app import CLIENT_ID
from .identity_app import STATIC_KEY
from .official import KEY

APP = "tests.integration_auth.identity_app:create_app()"
SECRET = "kc-client-secret-0123456789"
ADA = User(
    "9f1c-ada",
    {
        "email": "ada@example.com",
        "email_verified": True,
        "name": "Ada Lovelace",
        "preferred_username": "ada",
        "realm_access": {"roles": ["admin"]},
        "resource_access": {CLIENT_ID: {"roles": ["deployer"]}},
    },
)


class Served(t.NamedTuple):
    server: GunicornServer
    idp: OIDCIssuer
    env: dict[str, str]
    redis: t.Any


@pytest.fixture(scope="module")
def served(
    redis_server: t.Any, tmp_path_factory: pytest.TempPathFactory
) -> t.Iterator[Served]:
    redis_server.flushall()
    client = Client(CLIENT_ID, SECRET, exchange_audiences=("orders-api",))
    with OIDCIssuer(flavours.keycloak(users=[ADA], clients=[client])) as idp:
        port = free_port()
        env = {
            "IDENTITY_IDP": idp.url,
            "IDENTITY_IDP_SECRET": SECRET,
            "IDENTITY_BASE_URL": f"http://127.0.0.1:{port}",
            "IDENTITY_INSTANCE": str(tmp_path_factory.mktemp("identity")),
            "MCP_STORE_URL": redis_server.url,
            "MCP_OAUTH_ENCRYPTION_KEY": base64.urlsafe_b64encode(b"e" * 32).decode(),
        }
        with GunicornServer(
            APP, env=env, workers=2, port=port, clean_log=True
        ) as server:
            yield Served(server, idp, env, redis_server)


@pytest.fixture(scope="module")
def catcher() -> t.Iterator[RedirectCatcher]:
    with RedirectCatcher() as server:
        yield server


def oauth_client(served: Served, catcher: RedirectCatcher) -> t.Any:
    place = types.SimpleNamespace(mcp_url=served.server.mcp_url, upstream=served.idp)
    return official_client(place, catcher.redirect_uri)


def exchanges(served: Served) -> int:
    return int(served.idp.stats()["token"].get(TOKEN_EXCHANGE, 0))


def post_init(served: Served, **headers: str) -> requests.Response:
    return requests.post(
        served.server.mcp_url,
        json=INIT,
        headers={"Accept": ACCEPT, **headers},
        timeout=10,
    )


def test_an_oauth_user_gets_roles_and_downstream_tokens(served, catcher):
    client = oauth_client(served, catcher)
    who = tool_text(client.call_sync(served.server.mcp_url, "whoami"))
    assert who == "oauth 9f1c-ada [admin,deployer]"
    assert tool_text(client.call_sync(served.server.mcp_url, "admin")) == "admin ok"
    before = exchanges(served)
    first = tool_text(client.call_sync(served.server.mcp_url, "orders"))
    assert first == f"aud=orders-api sub=9f1c-ada azp={CLIENT_ID}"
    for _ in range(4):  # new connections: both workers answer some
        assert tool_text(client.call_sync(served.server.mcp_url, "orders")) == first
    assert exchanges(served) == before + 1  # cached in Redis, for every worker
    # The cache holds sealed values only.
    keys = served.redis.command("KEYS", "*downstream*").split()
    assert keys
    for key in keys:
        value = served.redis.command("GET", key.decode())
        assert b"orders-api" not in value and b"eyJ" not in value
    # Not allowed upstream: the tool reads an error naming the call.
    refused = tool_text(client.call_sync(served.server.mcp_url, "payroll"))
    assert refused.startswith(
        f"refused: token exchange at {served.idp.url}/realms/acme"
    )
    assert "invalid_target" in refused


def test_api_keys_share_the_endpoint_with_oauth(served):
    seen = official.use(
        served.server.mcp_url, {"X-API-Key": STATIC_KEY}, ["whoami", "orders"]
    )
    assert "admin" not in seen.tools
    assert seen.texts["whoami"] == "api-key:X-API-Key ci [builder]"
    assert seen.texts["orders"].startswith("refused: session: invalid_request")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            APP,
            "mcp",
            "keys",
            "create",
            "ops",
            "--role",
            "admin",
        ],
        env={**os.environ, **served.env},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    (key,) = KEY.findall(done.stdout)
    managed = official.use(
        served.server.mcp_url, {"X-API-Key": key}, ["whoami", "admin"], "legacy"
    )
    assert managed.texts == {
        "whoami": "managed-key key:ops [admin]",
        "admin": "admin ok",
    }


def test_the_challenge_invites_oauth_and_names_the_key_header(served):
    reply = post_init(served)
    assert reply.status_code == 401
    challenge = reply.headers["WWW-Authenticate"]
    metadata = served.server.url + "/.well-known/oauth-protected-resource/mcp"
    assert challenge.startswith(f'Bearer resource_metadata="{metadata}"')
    assert challenge.endswith('ApiKey header="X-API-Key"')
    # The official SDK finds the metadata in it (it reads httpx responses).
    sdk_view = httpx2.post(served.server.mcp_url, json=INIT, headers={"Accept": ACCEPT})
    assert extract_resource_metadata_from_www_auth(sdk_view) == metadata
    assert "Mcp-Session-Id" not in reply.headers


@pytest.mark.parametrize(
    ("headers", "scheme"),
    [
        ({"X-API-Key": "guessed"}, "ApiKey"),
        ({"X-API-Key": "mcpk_0123456789abcdef_" + "A" * 43}, "ApiKey"),
        ({"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}, "Bearer"),
    ],
    ids=["wrong-key", "forged-managed-key", "forged-token"],
)
def test_refusals_issue_nothing(served, headers, scheme):
    reply = post_init(served, **headers)
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == -32000
    # The error is on the challenge of the way in that refused.
    challenges = re.split(r", (?=ApiKey )", reply.headers["WWW-Authenticate"])
    (refusing,) = [c for c in challenges if 'error="invalid_token"' in c]
    assert refusing.startswith(scheme + " ")
    assert "Mcp-Session-Id" not in reply.headers
    errors = official.refused(served.server.mcp_url, headers)
    assert errors


def test_the_example_app_serves_oauth_and_api_keys_on_mcp(
    redis_server, tmp_path, catcher
):
    """``EXAMPLE_API_KEYS`` together with ``EXAMPLE_OIDC_ISSUER`` (and
    ``EXAMPLE_MANAGED_KEYS``): both ways in on ``/mcp``."""
    with OIDCIssuer(IssuerSettings(clients=[Client("example", SECRET)])) as idp:
        port = free_port()
        env = {
            "EXAMPLE_OIDC_ISSUER": idp.issuer,
            "EXAMPLE_OIDC_CLIENT_ID": "example",
            "EXAMPLE_OIDC_CLIENT_SECRET": SECRET,
            "EXAMPLE_BASE_URL": f"http://127.0.0.1:{port}",
            "EXAMPLE_INSTANCE_PATH": str(tmp_path / "instance"),
            "EXAMPLE_API_KEYS": "key-of-alice=alice:admin",
            "EXAMPLE_MANAGED_KEYS": "1",
            # A database of its own: the module's server uses database 0.
            "MCP_STORE_URL": redis_server.url.rsplit("/", 1)[0] + "/3",
        }
        with GunicornServer(env=env, workers=2, port=port, clean_log=True) as server:
            place = types.SimpleNamespace(mcp_url=server.mcp_url, upstream=idp)
            client = official_client(place, catcher.redirect_uri)
            who = tool_text(client.call_sync(server.mcp_url, "whoami"))
            assert who == "johndoe <john@example.com>"
            seen = official.use(
                server.mcp_url, {"X-API-Key": "key-of-alice"}, ["whoami", "admin_only"]
            )
            assert seen.texts == {"whoami": "alice", "admin_only": "Welcome, admin!"}
            challenge = post_init_at(server.mcp_url).headers["WWW-Authenticate"]
            assert challenge.startswith("Bearer resource_metadata=")
            assert challenge.endswith('ApiKey header="X-API-Key"')


def post_init_at(url: str) -> requests.Response:
    return requests.post(url, json=INIT, headers={"Accept": ACCEPT}, timeout=10)
