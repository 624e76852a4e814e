"""The examples of the API keys and custom authenticate guide."""

from __future__ import annotations

import pytest
from docs_helpers import post_initialize

from flask_mcp.testing import MCPError

KEYS = {"ALICE_KEY": "alice-key-123", "BOB_KEY": "bob-key-456"}


def test_api_keys(load_example):
    example = load_example("api_keys", env=KEYS)
    alice = {"X-API-Key": "alice-key-123"}
    bob = {"X-API-Key": "bob-key-456"}
    with example.mcp.test_client(example.app, headers=alice) as client:
        assert client.call_tool("whoami")["content"][0]["text"] == "alice"
        assert client.call_tool("revenue")["content"][0]["text"] == "1.2M"
    with example.mcp.test_client(example.app, headers=bob) as client:
        assert [tool["name"] for tool in client.list_tools()] == ["whoami"]
        with pytest.raises(MCPError):
            client.call_tool("revenue")


def test_api_key_refusals(load_example):
    example = load_example("api_keys", env=KEYS)
    missing = post_initialize(example.app)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == 'ApiKey header="X-API-Key"'
    wrong = post_initialize(example.app, {"X-API-Key": "guess"})
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == (
        'ApiKey header="X-API-Key", error="invalid_token",'
        ' error_description="invalid API key"'
    )


def test_custom_authenticate_port(load_example):
    example = load_example("custom_authenticate")
    with example.mcp.test_client(example.app, headers={"X-API-Key": "123"}) as client:
        assert client.call_tool("sayHello")["content"][0]["text"] == "Hello, 1!"
    refused = post_initialize(example.app, {"X-API-Key": "456"})
    assert refused.status_code == 401
    # Issue 15, item 8: no Bearer challenge sending OAuth clients into a
    # sign-in that cannot work; the header the key goes in instead.
    assert refused.headers["WWW-Authenticate"] == 'ApiKey header="X-API-Key"'
    assert "Bearer" not in refused.headers["WWW-Authenticate"]
    assert post_initialize(example.app).headers["WWW-Authenticate"] == (
        'ApiKey header="X-API-Key"'
    )


@pytest.mark.parametrize(
    ("headers", "status", "challenge"),
    [
        ({}, 401, 'Tenant header="X-Tenant"'),
        (
            {"X-Tenant": "acme", "X-Tenant-Secret": "nope"},
            401,
            'Tenant header="X-Tenant", error="invalid_token",'
            ' error_description="unknown tenant or wrong secret"',
        ),
        ({"X-Tenant": "globex", "X-Tenant-Secret": "hunter2"}, 403, None),
    ],
)
def test_authenticate_refusals(load_example, headers, status, challenge):
    example = load_example("authenticate_errors")
    response = post_initialize(example.app, headers)
    assert response.status_code == status
    assert response.headers.get("WWW-Authenticate") == challenge


def test_async_authenticate_lets_the_tenant_in(load_example):
    example = load_example("authenticate_errors")
    headers = {"X-Tenant": "acme", "X-Tenant-Secret": "s3cret"}
    with example.mcp.test_client(example.app, headers=headers) as client:
        assert client.call_tool("ping")["content"][0]["text"] == "pong"
