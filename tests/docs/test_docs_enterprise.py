"""docs/examples/enterprise.py: the proxy for people, for an enterprise IdP's
assistants (ID-JAG) and for machine clients, on one endpoint."""

from __future__ import annotations

import base64
import secrets
import time
import typing as t

import pytest

from support.oidc import OIDCIssuer

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
BASE = "https://mcp.example.com"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "docs", "version": "1"},
    },
}
CALL = {
    "jsonrpc": "2.0",
    "id": 2,
    "method": "tools/call",
    "params": {"name": "whoami", "arguments": {}},
}
HEADERS = {"Accept": "application/json, text/event-stream"}


@pytest.fixture
def example(load_example) -> t.Iterator[tuple[t.Any, OIDCIssuer]]:
    with OIDCIssuer(alg="ES256") as idp:
        yield (
            load_example(
                "enterprise",
                env={
                    "OIDC_ISSUER": "https://login.example.com",
                    "OIDC_CLIENT_ID": "desk",
                    "OIDC_CLIENT_SECRET": "desk-secret",
                    "MCP_REGISTRATION_TOKEN": "let-me-in",
                    "ENTERPRISE_IDP": idp.issuer,
                },
            ),
            idp,
        )


def register(http, **metadata: t.Any) -> dict[str, t.Any]:
    reply = http.post(
        "/oauth/register",
        json={"token_endpoint_auth_method": "client_secret_basic", **metadata},
        headers={"Authorization": "Bearer let-me-in"},
        base_url=BASE,
    )
    assert reply.status_code == 201, reply.text
    return t.cast(dict[str, t.Any], reply.json)


def basic(client: dict[str, t.Any]) -> dict[str, str]:
    raw = f"{client['client_id']}:{client['client_secret']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def call_whoami(http, token: str) -> str:
    headers = {**HEADERS, "Authorization": f"Bearer {token}"}
    started = http.post("/mcp", json=INIT, headers=headers, base_url=BASE)
    assert started.status_code == 200, started.text
    headers["Mcp-Session-Id"] = started.headers["Mcp-Session-Id"]
    headers["MCP-Protocol-Version"] = "2025-06-18"
    reply = http.post("/mcp", json=CALL, headers=headers, base_url=BASE)
    assert reply.status_code == 200, reply.text
    return str(reply.json["result"]["content"][0]["text"])


def test_an_assistant_with_an_id_jag(example):
    module, idp = example
    http = module.app.test_client()
    client = register(http, grant_types=[JWT_BEARER])
    now = int(time.time())
    assertion = idp.mint(
        {
            "sub": "alice",
            "aud": BASE,
            "client_id": client["client_id"],
            "resource": BASE + "/mcp",
            "jti": secrets.token_urlsafe(8),
            "iat": now,
            "exp": now + 300,
        },
        {"typ": "oauth-id-jag+jwt"},
    )
    reply = http.post(
        "/oauth/token",
        data={"grant_type": JWT_BEARER, "assertion": assertion},
        headers=basic(client),
        base_url=BASE,
    )
    assert reply.status_code == 200, reply.text
    assert reply.json["scope"] == "tickets:read"  # the IdP's cap
    assert call_whoami(http, reply.json["access_token"]) == (
        f"alice, vouched for by {idp.issuer}"
    )


def test_a_machine_client(example):
    module, _ = example
    http = module.app.test_client()
    client = register(http, grant_types=["client_credentials"], scope="tickets:read")
    reply = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(client),
        base_url=BASE,
    )
    assert reply.status_code == 200, reply.text
    assert call_whoami(http, reply.json["access_token"]) == (
        f"the machine client {client['client_id']}"
    )


def test_the_provider_display_name_on_the_consent_page(example):
    module, _ = example
    proxy = module.mcp.proxy
    assert proxy.provider.display_name == "Acme sign-in"
