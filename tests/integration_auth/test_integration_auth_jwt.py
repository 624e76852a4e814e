"""The example app in JWT mode under gunicorn, against a real issuer.

``EXAMPLE_JWT_ISSUER`` is an oauth2-mock-server (Node 22); its tokens are
checked by ``JWTVerifier`` with keys found through the issuer's discovery
document. Every bad token is a 401 ``invalid_token``; a token in the query
string is refused; a key the issuer rotates in is picked up; and the official
MCP client, refused without a token, can follow the challenge to the
authorization server's metadata.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import typing as t
import uuid

import anyio
import httpx2
import pytest
from joserfc.jwk import RSAKey
from mcp import Client
from mcp.client.auth.utils import (
    build_oauth_authorization_server_metadata_discovery_urls,
)
from mcp.client.auth.utils import build_protected_resource_metadata_discovery_urls
from mcp.client.auth.utils import extract_resource_metadata_from_www_auth
from mcp.client.auth.utils import extract_scope_from_www_auth
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthMetadata
from mcp.shared.auth import ProtectedResourceMetadata
from mcp.shared.exceptions import MCPError

from support.issuer import MockIssuer

from .conftest import JwtServed
from .conftest import serve_jwt_example
from .helpers import AUTH_ERROR
from .helpers import INVALID_PARAMS
from .helpers import McpClient
from .helpers import Reply
from .helpers import error_of
from .helpers import normalized

#: The key mock_issuer.mjs starts with. Tokens name it explicitly, so that a
#: key added by another test never signs them.
KID = "initial-rsa"
SCOPES = "data:read data:write"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint(served: JwtServed, **claims: t.Any) -> str:
    base = {"sub": "user-1", "scope": "data:read", "aud": served.audience}
    return served.issuer.mint({**base, **claims}, kid=KID)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def client(served: JwtServed, token: str | None) -> McpClient:
    return McpClient(served.http, bearer(token) if token else {})


# ---------------------------------------------------------------------------
# a valid token


def test_a_valid_token_uses_tools_resources_and_routes(jwt_server: JwtServed) -> None:
    user = client(jwt_server, mint(jwt_server))
    assert user.initialize().status == 200
    tools = user.names("tools")
    assert {"whoami", "read_data"} <= tools
    assert "admin_only" not in tools  # require_role("admin"): the token has no roles

    whoami = user.result("tools/call", {"name": "whoami", "arguments": {}})
    assert whoami["content"] == [{"type": "text", "text": "user-1"}]
    data = user.result("tools/call", {"name": "read_data", "arguments": {}})
    assert data["structuredContent"] == {"owner": "user-1", "items": ["alpha", "beta"]}
    (profile,) = user.result("resources/read", {"uri": "data://me/profile"})["contents"]
    assert json.loads(profile["text"]) == {"subject": "user-1", "scopes": ["data:read"]}

    me = jwt_server.http.get("/api/me", headers=user.headers)
    assert me.status == 200
    assert me.json() == {
        "subject": "user-1",
        "scopes": ["data:read"],
        "roles": [],
        "email": None,
    }


def test_roles_and_scopes_of_the_token_decide_what_is_listed(
    jwt_server: JwtServed,
) -> None:
    admin = client(
        jwt_server,
        mint(
            jwt_server, sub="root", roles=["admin"], scope="data:write", email="r@x.io"
        ),
    )
    assert admin.initialize().status == 200
    tools = admin.names("tools")
    assert {"whoami", "admin_only"} <= tools
    assert "read_data" not in tools
    assert admin.names("resources") & {"data://me/profile"} == set()
    hidden = admin.rpc("tools/call", {"name": "read_data", "arguments": {}})
    unknown = admin.rpc("tools/call", {"name": "no_such_tool", "arguments": {}})
    assert error_of(hidden)["code"] == INVALID_PARAMS
    assert normalized(hidden, "read_data") == normalized(unknown, "no_such_tool")
    result = admin.result("tools/call", {"name": "admin_only", "arguments": {}})
    assert result["content"] == [{"type": "text", "text": "Welcome, admin!"}]
    me = jwt_server.http.get("/api/me", headers=admin.headers).json()
    assert me == {
        "subject": "root",
        "scopes": ["data:write"],
        "roles": ["admin"],
        "email": "r@x.io",
    }


def test_a_session_follows_the_subject_across_token_renewals(
    jwt_server: JwtServed,
) -> None:
    first = client(jwt_server, mint(jwt_server))
    assert first.initialize().status == 200
    renewed = client(jwt_server, mint(jwt_server, jti=uuid.uuid4().hex))
    assert renewed.headers != first.headers
    renewed.session_id, renewed.version = first.session_id, first.version
    assert "whoami" in renewed.names("tools")
    other = client(jwt_server, mint(jwt_server, sub="user-2"))
    other.session_id, other.version = first.session_id, first.version
    stolen = other.rpc("tools/list")
    assert stolen.status == 404
    assert error_of(stolen)["message"] == "Session not found"


# ---------------------------------------------------------------------------
# refused tokens


def check_refused(
    served: JwtServed, reply: Reply, error: str | None, request_id: t.Any = None
) -> None:
    assert reply.status == 401, reply.body
    challenge = reply.challenge()
    challenge.pop("error_description", None)
    expected = {
        "resource_metadata": served.server.url
        + "/.well-known/oauth-protected-resource/mcp",
        "scope": SCOPES,
    }
    if error is not None:
        expected["error"] = error
    assert challenge == expected, reply.header("WWW-Authenticate")
    if request_id is not None:
        body = reply.json()
        assert body["id"] == request_id
        assert body["error"]["code"] == AUTH_ERROR


def _forged(served: JwtServed, header: dict[str, t.Any], key: bytes | None) -> str:
    now = int(time.time())
    claims = {
        "iss": served.issuer.url,
        "sub": "user-1",
        "aud": served.audience,
        "scope": "data:read",
        "iat": now,
        "nbf": now - 10,
        "exp": now + 600,
    }
    signing_input = (
        b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    )
    signature = (
        b""
        if key is None
        else hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    )
    return signing_input + "." + b64(signature)


def alg_none(served: JwtServed) -> str:
    return _forged(served, {"alg": "none", "typ": "JWT"}, None)


def hs256_with_the_public_key(served: JwtServed) -> str:
    (jwk,) = [k for k in served.issuer.jwks()["keys"] if k["kid"] == KID]
    pem = RSAKey.import_key(jwk).as_pem(private=False)
    return _forged(served, {"alg": "HS256", "typ": "JWT", "kid": KID}, pem)


def tampered(served: JwtServed) -> str:
    header, payload, signature = mint(served).split(".")
    claims = json.loads(unb64(payload))
    claims["sub"] = "someone-else"
    return ".".join([header, b64(json.dumps(claims).encode()), signature])


def in_an_hour() -> int:
    return int(time.time()) + 3600


class BadToken(t.NamedTuple):
    make: t.Callable[[JwtServed], str]
    #: Why it is refused: the ``error_description`` and the JSON-RPC message.
    reason: str


BAD_TOKENS: dict[str, BadToken] = {
    "expired": BadToken(
        lambda s: s.issuer.mint(
            {"sub": "user-1", "aud": s.audience, "scope": "data:read"},
            kid=KID,
            expires_in=-3600,
        ),
        "the access token has expired",
    ),
    "not yet valid": BadToken(
        lambda s: mint(s, nbf=in_an_hour()), "the access token is not yet valid"
    ),
    "issued in the future": BadToken(
        lambda s: mint(s, iat=in_an_hour(), nbf=None),
        "the access token was issued in the future",
    ),
    "no exp": BadToken(
        lambda s: mint(s, exp=None), "the access token lacks required claims (exp)"
    ),
    "wrong issuer": BadToken(
        lambda s: mint(s, iss="http://127.0.0.1:9/other-issuer"),
        "the access token has an unexpected issuer",
    ),
    "wrong audience": BadToken(
        lambda s: mint(s, aud="http://127.0.0.1:9/other/mcp"),
        "the access token is not meant for this resource",
    ),
    "alg none": BadToken(alg_none, "token algorithm not accepted"),
    "HS256 signed with the public key": BadToken(
        hs256_with_the_public_key, "token algorithm not accepted"
    ),
    "unknown kid": BadToken(
        lambda s: s.issuer.mint(
            {"sub": "user-1", "aud": s.audience}, kid=KID, header={"kid": "no-such-key"}
        ),
        "no key matches the token",
    ),
    "malformed: not a JWS": BadToken(lambda s: "not-a-jwt", "malformed token"),
    "malformed: garbage segments": BadToken(lambda s: "abc.def.ghi", "malformed token"),
    "malformed: characters": BadToken(
        lambda s: "bad token!", "the Bearer token is malformed"
    ),
    "truncated signature": BadToken(lambda s: mint(s)[:-8], "invalid token signature"),
    "tampered payload": BadToken(tampered, "invalid token signature"),
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_a_bad_token_is_401_invalid_token(jwt_server: JwtServed, case: str) -> None:
    bad = BAD_TOKENS[case]
    token = bad.make(jwt_server)
    reply = client(jwt_server, token).rpc(
        "tools/list", request_id=f"bad-{case}", session=False
    )
    check_refused(jwt_server, reply, "invalid_token", f"bad-{case}")
    assert reply.challenge()["error_description"] == bad.reason
    assert error_of(reply)["message"] == bad.reason
    route = jwt_server.http.get("/api/me", headers=bearer(token))
    check_refused(jwt_server, route, "invalid_token")
    assert route.json() == {"error": "invalid_token", "error_description": bad.reason}


def test_the_bad_token_cases_are_really_bad_only_in_one_way(
    jwt_server: JwtServed,
) -> None:
    """The baseline the bad tokens are made from is accepted."""
    reply = client(jwt_server, mint(jwt_server)).rpc("tools/list", session=False)
    assert reply.status == 400  # past authentication: only the session is missing
    assert (
        error_of(reply)["message"] == "Bad Request: Mcp-Session-Id header is required"
    )


def test_no_token_is_401_without_an_error_code(jwt_server: JwtServed) -> None:
    reply = client(jwt_server, None).rpc("tools/list", request_id=1, session=False)
    check_refused(jwt_server, reply, None, 1)
    check_refused(jwt_server, jwt_server.http.get("/api/me"), None)


def test_a_token_in_the_query_string_is_refused(jwt_server: JwtServed) -> None:
    token = mint(jwt_server)
    query = {"access_token": token}
    alone = client(jwt_server, None).rpc(
        "tools/list", request_id=2, session=False, query=query
    )
    check_refused(jwt_server, alone, "invalid_request", 2)
    # Even next to a valid header: tokens must not travel in URLs.
    both = client(jwt_server, token).rpc(
        "tools/list", request_id=3, session=False, query=query
    )
    check_refused(jwt_server, both, "invalid_request", 3)
    route = jwt_server.http.get("/api/me", query=query)
    check_refused(jwt_server, route, "invalid_request")


# ---------------------------------------------------------------------------
# key rotation


def test_a_key_the_issuer_rotates_in_is_accepted(
    tmp_path_factory: pytest.TempPathFactory, issuer: MockIssuer
) -> None:
    """Own server: an unknown ``kid`` elsewhere may have used the refetch
    allowance of the shared store for the next 30 seconds."""
    with serve_jwt_example(tmp_path_factory.mktemp("rotation"), issuer) as served:
        old = client(served, mint(served))
        assert old.initialize().status == 200  # keys of the issuer are cached now
        fetched = issuer.hits("jwks")

        kid = f"rotated-{uuid.uuid4().hex[:8]}"
        assert issuer.add_key(kid=kid)["kid"] == kid
        token = issuer.mint(
            {"sub": "user-9", "aud": served.audience, "scope": "data:read"}, kid=kid
        )
        assert json.loads(unb64(token.split(".")[0]))["kid"] == kid
        new = client(served, token)
        assert new.initialize().status == 200
        for _ in range(4):  # both workers
            result = new.result("tools/call", {"name": "whoami", "arguments": {}})
            assert result["content"] == [{"type": "text", "text": "user-9"}]
        assert issuer.hits("jwks") == fetched + 1  # one refetch, shared by workers
        assert "whoami" in old.names("tools")  # the old key still works


# ---------------------------------------------------------------------------
# the official MCP client


def mcp_errors(error: BaseException) -> list[MCPError]:
    """The MCPErrors in ``error``, looking inside (nested) exception groups."""
    if isinstance(error, MCPError):
        return [error]
    inner = getattr(error, "exceptions", ())
    return [found for sub in inner for found in mcp_errors(sub)]


def test_the_official_client_without_a_token_is_refused(jwt_server: JwtServed) -> None:
    async def main() -> None:
        async with Client(jwt_server.mcp_url, read_timeout_seconds=20) as mcp_client:
            await mcp_client.list_tools()

    with pytest.raises(Exception) as raised:
        anyio.run(main)
    errors = mcp_errors(raised.value)
    assert errors, raised.value
    assert {(e.error.code, e.error.message) for e in errors} == {
        (AUTH_ERROR, "Unauthorized")
    }


def test_the_official_client_follows_the_challenge_to_the_issuer(
    jwt_server: JwtServed,
) -> None:
    responses: list[httpx2.Response] = []

    async def record(response: httpx2.Response) -> None:
        responses.append(response)

    async def main() -> None:
        async with httpx2.AsyncClient(
            timeout=httpx2.Timeout(20), event_hooks={"response": [record]}
        ) as http:
            async with Client(
                streamable_http_client(jwt_server.mcp_url, http_client=http)
            ) as mcp_client:
                await mcp_client.list_tools()

    with pytest.raises(Exception) as raised:
        anyio.run(main)
    assert mcp_errors(raised.value), raised.value
    statuses = [response.status_code for response in responses]
    assert statuses and set(statuses) == {401}, statuses
    refused = responses[0]
    assert extract_scope_from_www_auth(refused) == SCOPES
    resource_metadata = extract_resource_metadata_from_www_auth(refused)
    assert resource_metadata == (
        jwt_server.server.url + "/.well-known/oauth-protected-resource/mcp"
    )

    # The resource metadata: every URL the client would try is served.
    urls = build_protected_resource_metadata_discovery_urls(
        resource_metadata, jwt_server.mcp_url
    )
    documents = []
    for url in urls:
        reply = jwt_server.http.get(url.removeprefix(jwt_server.server.url))
        assert reply.status == 200, url
        documents.append(reply.json())
    assert all(document == documents[0] for document in documents)
    metadata = ProtectedResourceMetadata.model_validate(documents[0])
    assert str(metadata.resource) == jwt_server.mcp_url
    assert [str(a).rstrip("/") for a in metadata.authorization_servers] == [
        jwt_server.issuer.url
    ]
    assert metadata.scopes_supported == SCOPES.split()
    assert metadata.bearer_methods_supported == ["header"]

    # The issuer's metadata, at the first of the client's candidate URLs that
    # the issuer serves: its RFC 8414 URL or its openid-configuration.
    candidates = build_oauth_authorization_server_metadata_discovery_urls(
        str(metadata.authorization_servers[0]), jwt_server.mcp_url
    )
    issuer = jwt_server.issuer.url
    assert candidates == [
        f"{issuer}/.well-known/oauth-authorization-server",
        f"{issuer}/.well-known/openid-configuration",
    ]
    served = {url: jwt_server.issuer.http.get(url, timeout=10) for url in candidates}
    found = [url for url, response in served.items() if response.status_code == 200]
    assert found, {url: response.status_code for url, response in served.items()}
    document = served[found[0]].json()
    server_metadata = OAuthMetadata.model_validate(document)
    assert str(server_metadata.issuer).rstrip("/") == issuer
    jwks = jwt_server.issuer.http.get(document["jwks_uri"], timeout=10)
    assert jwks.status_code == 200
    assert KID in {key["kid"] for key in jwks.json()["keys"]}


def test_the_official_client_with_a_token_works(jwt_server: JwtServed) -> None:
    token = mint(jwt_server)

    async def main() -> tuple[set[str], str]:
        async with httpx2.AsyncClient(
            timeout=httpx2.Timeout(20), headers=bearer(token)
        ) as http:
            async with Client(
                streamable_http_client(jwt_server.mcp_url, http_client=http)
            ) as mcp_client:
                tools = {tool.name for tool in (await mcp_client.list_tools()).tools}
                result = await mcp_client.call_tool("whoami", {})
                return tools, result.content[0].text  # type: ignore[union-attr]

    tools, subject = anyio.run(main)
    assert {"whoami", "read_data"} <= tools and "admin_only" not in tools
    assert subject == "user-1"
