"""Discovery documents (RFC 9728, RFC 8414) served by gunicorn.

The ``oauth=`` setting is given once in snake_case and once in camelCase; both
must publish the same documents, with RFC (snake_case) field names, public,
cacheable and readable cross-origin. A 401's ``resource_metadata`` must lead
to them, and on to the authorization server metadata, the way the official
MCP client looks for it.
"""

from __future__ import annotations

import typing as t
import uuid

import pytest
from mcp.client.auth.utils import (
    build_oauth_authorization_server_metadata_discovery_urls,
)
from mcp.client.auth.utils import build_protected_resource_metadata_discovery_urls
from mcp.shared.auth import OAuthMetadata
from mcp.shared.auth import ProtectedResourceMetadata

from . import apps
from .conftest import Served
from .helpers import Http
from .helpers import McpClient
from .helpers import Reply

PROTECTED_RESOURCE_PATHS = [
    "/.well-known/oauth-protected-resource",
    "/.well-known/oauth-protected-resource/mcp",
]


@pytest.fixture(params=["snake", "camel"])
def served(request: pytest.FixtureRequest) -> Served:
    return t.cast(Served, request.getfixturevalue(f"{request.param}_server"))


@pytest.fixture(scope="module")
def snake_server(auth_server: Served) -> Served:
    return auth_server


def assert_public(reply: Reply) -> None:
    assert reply.status == 200, reply.body
    assert reply.content_type == "application/json"
    assert reply.header("Access-Control-Allow-Origin") == "*"
    cache = reply.header("Cache-Control") or ""
    assert "public" in cache and "max-age=" in cache, cache
    assert int(cache.split("max-age=")[1].split(",")[0]) > 0


@pytest.mark.parametrize("path", PROTECTED_RESOURCE_PATHS)
def test_protected_resource_metadata(served: Served, path: str) -> None:
    reply = served.http.get(path)
    assert_public(reply)
    document = reply.json()
    assert document == {
        "resource": served.mcp_url,
        "authorization_servers": [served.issuer],
        "scopes_supported": ["x:read", "x:write"],
        "bearer_methods_supported": ["header"],
        "resource_name": "integration-auth",
    }
    ProtectedResourceMetadata.model_validate(document)  # as the MCP client reads it


def test_authorization_server_metadata_with_path_insertion(served: Served) -> None:
    assert served.issuer.endswith("/tenant-1")
    reply = served.http.get("/.well-known/oauth-authorization-server/tenant-1")
    assert_public(reply)
    issuer = served.issuer
    document = reply.json()
    assert document == {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/jwks",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "x:read", "x:write"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }
    OAuthMetadata.model_validate(document)


@pytest.mark.parametrize(
    "path",
    [*PROTECTED_RESOURCE_PATHS, "/.well-known/oauth-authorization-server/tenant-1"],
)
def test_discovery_documents_answer_cors_preflights(served: Served, path: str) -> None:
    reply = served.http.request(
        "OPTIONS",
        path,
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "mcp-protocol-version",
        },
    )
    assert 200 <= reply.status < 300
    assert reply.header("Access-Control-Allow-Origin") == "*"
    assert "GET" in (reply.header("Access-Control-Allow-Methods") or "")


def test_snake_and_camel_settings_publish_the_same_documents(
    auth_server: Served, camel_server: Served
) -> None:
    for path in [
        *PROTECTED_RESOURCE_PATHS,
        "/.well-known/oauth-authorization-server/tenant-1",
    ]:
        snake = auth_server.http.get(path).body.decode()
        camel = camel_server.http.get(path).body.decode()
        assert snake.replace(auth_server.url, "<URL>") == camel.replace(
            camel_server.url, "<URL>"
        )


def test_discovery_documents_are_public(served: Served) -> None:
    mark = uuid.uuid4().hex
    for path in [
        *PROTECTED_RESOURCE_PATHS,
        "/.well-known/oauth-authorization-server/tenant-1",
    ]:
        for headers in ({}, {"X-API-Key": "wrong"}, {"X-Test-Auth": "abort-403"}):
            reply = served.http.get(path, headers={**headers, "X-Test-Tag": mark})
            assert reply.status == 200, (path, headers)
    assert served.calls(mark) == []  # authenticate never ran


def test_the_challenge_leads_to_the_metadata_like_the_mcp_client_looks(
    served: Served,
) -> None:
    refused = McpClient(served.http).rpc("tools/list", session=False)
    assert refused.status == 401
    resource_metadata = refused.challenge()["resource_metadata"]

    # Every URL the MCP client would try for the resource metadata works.
    urls = build_protected_resource_metadata_discovery_urls(
        resource_metadata, served.mcp_url
    )
    assert urls[0] == resource_metadata
    documents = []
    for url in urls:
        reply = served.http.get(url.removeprefix(served.url))
        assert_public(reply)
        documents.append(reply.json())
    assert all(document == documents[0] for document in documents)
    metadata = ProtectedResourceMetadata.model_validate(documents[0])
    assert str(metadata.resource) == served.mcp_url

    # ... and so does its first authorization-server URL (path insertion).
    server_urls = build_oauth_authorization_server_metadata_discovery_urls(
        str(metadata.authorization_servers[0]), served.mcp_url
    )
    assert server_urls[0] == (
        served.url + "/.well-known/oauth-authorization-server/tenant-1"
    )
    reply = served.http.get(server_urls[0].removeprefix(served.url))
    assert_public(reply)
    assert (
        OAuthMetadata.model_validate(reply.json()).issuer
        == (metadata.authorization_servers[0])
    )


def test_an_issuer_without_path_is_served_at_the_root(tmp_path: t.Any) -> None:
    http = Http(
        app=apps.create_app(
            instance_path=str(tmp_path), issuer="https://auth.example.com"
        )
    )
    reply = http.get("/.well-known/oauth-authorization-server")
    assert_public(reply)
    assert reply.json()["issuer"] == "https://auth.example.com"
    assert http.get("/.well-known/oauth-protected-resource/mcp").json()[
        "authorization_servers"
    ] == ["https://auth.example.com"]


def test_openid_configuration_of_an_issuer_with_a_path(auth_server: Served) -> None:
    """BUG: with ``openid`` in ``scopes_supported`` the document is also served
    as an OpenID configuration, but at ``/.well-known/openid-configuration``
    whatever the issuer's path. For ``<host>/tenant-1`` OpenID Connect
    Discovery 1.0 (section 4) looks at ``<issuer>/.well-known/openid-configuration``
    and RFC 8414 section 5 / the MCP spec also try
    ``/.well-known/openid-configuration/tenant-1``; neither is auth_server."""
    candidates = build_oauth_authorization_server_metadata_discovery_urls(
        auth_server.issuer, auth_server.mcp_url
    )
    oidc = [url for url in candidates if "openid-configuration" in url]
    assert oidc == [
        auth_server.url + "/.well-known/openid-configuration/tenant-1",
        auth_server.issuer + "/.well-known/openid-configuration",
    ]
    found = {
        url: auth_server.http.get(url.removeprefix(auth_server.url)).status
        for url in oidc
    }
    assert 200 in found.values(), found


def test_an_incomplete_openid_configuration_is_not_served(tmp_path: t.Any) -> None:
    """``openid`` in ``scopes_supported`` without the fields an OpenID
    Provider's configuration needs: clients that read an
    ``openid-configuration`` would refuse it, so it is only served as the
    RFC 8414 document (issue 15: every document a client may try is
    complete for its kind, or absent)."""
    from flask import Flask

    from flask_mcp import FlaskMCP

    app = Flask(__name__, instance_path=str(tmp_path))
    issuer = "http://localhost/tenant-1"
    FlaskMCP(
        app,
        authenticate=lambda request: None,
        oauth={
            "enabled": True,
            "authorization_server": {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token",
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "scopes_supported": ["openid"],
            },
        },
    )
    http = app.test_client()
    assert (
        http.get("/.well-known/oauth-authorization-server/tenant-1").status_code == 200
    )
    for path in (
        "/.well-known/openid-configuration/tenant-1",
        "/tenant-1/.well-known/openid-configuration",
        "/.well-known/openid-configuration",
    ):
        assert http.get(path).status_code == 404, path


def test_without_oauth_no_documents_are_published(tmp_path: t.Any) -> None:
    http = Http(app=apps.create_app(instance_path=str(tmp_path), oauth="off"))
    for path in [
        *PROTECTED_RESOURCE_PATHS,
        "/.well-known/oauth-authorization-server/tenant-1",
        "/.well-known/oauth-authorization-server",
    ]:
        assert http.get(path).status == 404, path
