"""The examples of the several-ways-in, managed keys, downstream tokens and
providers pages, run against the test issuer (``support.oidc``)."""

from __future__ import annotations

import base64
import re
import secrets
import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests
from docs_helpers import DOCS
from docs_helpers import INITIALIZE
from docs_helpers import post_initialize
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from flask_mcp.testing import MCPError
from support.loopback import LoopbackServer
from support.oidc import Client
from support.oidc import IssuerSettings
from support.oidc import OIDCIssuer
from support.oidc import User
from support.oidc import flavours

KEY = re.compile(r"mcpk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")
SECRET = "docs-client-secret-0123456789"
ENCRYPTION_KEY = base64.urlsafe_b64encode(b"d" * 32).decode()


def text(result: dict[str, t.Any]) -> str:
    return t.cast(str, result["content"][0]["text"])


# -- several ways in -------------------------------------------------------------


def test_several_ways_in(load_example):
    with OIDCIssuer(IssuerSettings()) as idp:
        example = load_example(
            "several_ways", env={"OIDC_ISSUER": idp.issuer, "DEPLOY_BOT_KEY": "bot-key"}
        )
        app, mcp = example.app, example.mcp
        staff = idp.mint(
            {"sub": "ada", "aud": "http://localhost/mcp", "roles": ["admin"]}
        )
        with mcp.test_client(app, headers={"Authorization": f"Bearer {staff}"}) as c:
            assert text(c.call_tool("whoami")) == "ada via bearer"
            assert text(c.call_tool("deploy", {"service": "api"})) == "api deployed"
        with mcp.test_client(app, headers={"X-API-Key": "bot-key"}) as c:
            assert text(c.call_tool("whoami")) == "deploy-bot via api-key:X-API-Key"
        result = app.test_cli_runner().invoke(
            args=["mcp", "keys", "create", "intern", "--role", "viewer"]
        )
        (key,) = KEY.findall(result.output)
        with mcp.test_client(app, headers={"X-API-Key": key}) as c:
            assert text(c.call_tool("whoami")) == "key:intern via managed-key"
            assert [tool["name"] for tool in c.list_tools()] == ["whoami"]
        refused = post_initialize(app)
        challenge = refused.headers["WWW-Authenticate"]
        assert challenge.startswith('Bearer resource_metadata="http://localhost/')
        assert challenge.endswith('ApiKey header="X-API-Key"')


def test_several_ways_in_next_to_the_proxy(load_example):
    example = load_example(
        "ways_in_proxy",
        env={
            "KEYCLOAK_URL": "https://sso.example.com",
            "KEYCLOAK_CLIENT_SECRET": SECRET,
            "CI_KEY": "ci-key",
        },
    )
    http = example.app.test_client()

    def post(**headers: str) -> t.Any:
        return http.post(
            "/mcp",
            json=INITIALIZE,
            headers={"Accept": "application/json, text/event-stream", **headers},
            base_url="https://mcp.example.com",
        )

    assert post(**{"X-API-Key": "ci-key"}).status_code == 200
    refused = post()
    assert refused.status_code == 401
    challenge = refused.headers["WWW-Authenticate"]
    assert challenge.startswith(
        'Bearer resource_metadata="https://mcp.example.com/.well-known/'
        'oauth-protected-resource/mcp"'
    )
    assert challenge.endswith('ApiKey header="X-API-Key"')


# -- managed keys ----------------------------------------------------------------


def test_managed_keys(load_example):
    example = load_example("managed_keys")
    cli = example.app.test_cli_runner()
    made = cli.invoke(
        args=[
            "mcp",
            "keys",
            "create",
            "finance-bot",
            "--scope",
            "reports:read",
            "--expires",
            "90",
        ]
    )
    assert made.exit_code == 0 and "not shown again" in made.output
    (key,) = KEY.findall(made.output)
    with example.mcp.test_client(example.app, headers={"X-API-Key": key}) as client:
        assert [tool["name"] for tool in client.list_tools()] == ["revenue"]
        assert text(client.call_tool("revenue")) == "1.2M (asked by key:finance-bot)"
        listing = cli.invoke(args=["mcp", "keys", "list"]).output
        assert "finance-bot" in listing and key not in listing
        cli.invoke(args=["mcp", "keys", "revoke", "finance-bot"])
        with pytest.raises(MCPError) as refused:
            client.call_tool("revenue")
    assert refused.value.status == 401


# -- downstream tokens ------------------------------------------------------------


def orders_api() -> LoopbackServer:
    """An "orders API" answering what the bearer token it got says."""

    def app(environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
        token = Request(environ).headers.get("Authorization", "")[7:]
        payload = token.split(".")[1]
        claims = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        return Response(claims, content_type="application/json")(
            environ, start_response
        )

    return LoopbackServer(app)


def test_downstream_tokens(load_example):
    client = Client("mcp-server", SECRET, exchange_audiences=("orders-api",))
    with OIDCIssuer(flavours.keycloak(clients=[client])) as idp, orders_api() as api:
        example = load_example(
            "downstream",
            env={
                "KEYCLOAK_REALM_URL": idp.issuer,
                "KEYCLOAK_CLIENT_SECRET": SECRET,
                "ORDERS_API": api.url,
                "MCP_OAUTH_ENCRYPTION_KEY": ENCRYPTION_KEY,
            },
        )
        token = idp.mint({"sub": "ada", "aud": "mcp-server", "azp": "mcp-server"})
        headers = {"Authorization": f"Bearer {token}"}
        with example.mcp.test_client(example.app, headers=headers) as mcp_client:
            seen = text(mcp_client.call_tool("my_orders"))
        assert '"aud":"orders-api"' in seen and '"sub":"ada"' in seen
        assert token not in seen  # the API got its own token, not ours


def test_downstream_tokens_on_behalf_of(load_example):
    tenant = "9188040d-6c67-4c5b-b112-36a304b66dad"
    api = Client("mcp-api", SECRET, exchange_audiences=("api://orders",))
    with OIDCIssuer(flavours.entra(tenant, clients=[api])) as idp:
        example = load_example(
            "downstream_obo",
            env={
                "AZURE_TENANT_ID": tenant,
                "AZURE_CLIENT_ID": "mcp-api",
                "AZURE_CLIENT_SECRET": SECRET,
                "AZURE_AUTHORITY": idp.url,
            },
        )
        token = idp.mint({"sub": "ada", "aud": "api://mcp-api", "scp": "access"})
        headers = {"Authorization": f"Bearer {token}"}
        with example.mcp.test_client(example.app, headers=headers) as client:
            assert text(client.call_tool("token_for_orders")).startswith("eyJ")


# -- providers ---------------------------------------------------------------------

ADA = {"email": "ada@example.com", "email_verified": True, "name": "Ada"}
PROVIDERS = {
    "keycloak": (
        flavours.keycloak,
        User("kc-1", {**ADA, "realm_access": {"roles": ["admin"]}}),
        lambda _load, idp: _load(
            "keycloak",
            env={"KEYCLOAK_URL": idp.url, "KEYCLOAK_CLIENT_SECRET": SECRET},
        ),
        "mcp-server",
        "purge_cache",
        "admin",
    ),
    "okta": (
        flavours.okta,
        User("00u1", {**ADA, "groups": ["mcp-admins"]}),
        lambda _load, idp: _load(
            "okta",
            env={
                "OKTA_DOMAIN": idp.url,
                "OKTA_CLIENT_ID": "okta-app",
                "OKTA_CLIENT_SECRET": SECRET,
            },
        ),
        "okta-app",
        "rotate_secrets",
        "mcp-admins",
    ),
    "auth0": (
        flavours.auth0,
        User("auth0|1", {**ADA, "https://example.com/roles": ["editor"]}),
        lambda _load, idp: _load(
            "auth0",
            env={
                "AUTH0_DOMAIN": idp.url,
                "AUTH0_CLIENT_ID": "auth0-app",
                "AUTH0_CLIENT_SECRET": SECRET,
            },
        ),
        "auth0-app",
        "publish",
        "editor",
    ),
    "cognito": (
        flavours.cognito,
        User("cg-1", {**ADA, "cognito:groups": ["ops"]}),
        lambda _load, idp: _load(
            "cognito",
            env={
                "COGNITO_USER_POOL_ID": "us-east-1_TestPool",
                "COGNITO_DOMAIN": idp.url,
                "COGNITO_CLIENT_ID": "cognito-app",
                "COGNITO_CLIENT_SECRET": SECRET,
            },
        ),
        "cognito-app",
        "restart_workers",
        "ops",
    ),
    "gitlab": (
        flavours.gitlab,
        User("42", {**ADA, "nickname": "ada", "groups": ["acme", "acme/platform"]}),
        lambda _load, idp: _load(
            "gitlab",
            env={
                "GITLAB_URL": idp.url,
                "GITLAB_CLIENT_ID": "gitlab-app",
                "GITLAB_CLIENT_SECRET": SECRET,
            },
        ),
        "gitlab-app",
        "deploy_preview",
        "acme/platform",
    ),
}


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_provider_examples_sign_in_with_roles(load_example, name):
    flavour, user, load, client_id, tool, role = PROVIDERS[name]
    with OIDCIssuer(flavour(users=[user], clients=[Client(client_id, SECRET)])) as idp:
        example = load(load_example, idp)
        provider = example.mcp.proxy.provider
        if name == "cognito":  # the real issuer is on AWS: the test's instead
            provider.issuer = idp.issuer
            provider.configuration_url = idp.discovery_url()
        verifier = secrets.token_urlsafe(48)
        url = provider.authorization_url(state="s", code_verifier=verifier)
        location = requests.get(url, allow_redirects=False, timeout=5).headers[
            "Location"
        ]
        code = parse_qs(urlsplit(location).query)["code"][0]
        tokens = provider.exchange_code(code=code, code_verifier=verifier)
        session = provider.session(
            tokens, provider.identity(tokens), scopes=frozenset(), client_id="c"
        )
        assert role in session.roles
        check = example.mcp.registry.tools[tool].can_access
        assert check(session) is True


def test_the_migration_page_names_azure():
    page = (DOCS / "migrating.rst").read_text()
    assert "``AzureProvider``" in page and "MicrosoftProvider" in page
    assert "Entra" in page
    assert "Azure" in (DOCS / "providers.rst").read_text()
