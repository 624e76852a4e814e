"""Enterprise-managed authorization: ID-JAGs of a company's IdP traded at the
token endpoint with the JWT bearer grant (RFC 7523), every check the MCP
extension and draft-ietf-oauth-identity-assertion-authz-grant require, each
refusal an OAuth error with nothing issued.

The IdP is the test issuer (:class:`support.oidc.OIDCIssuer`) on loopback:
its metadata and JWK Set over real HTTP, ID-JAGs signed with its key.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import typing as t

import pytest
from joserfc.jwk import ECKey

from flask_mcp.auth.proxy import EnterpriseIdP as IdPSettings
from flask_mcp.auth.proxy import GrantOptions
from support.oidc import OIDCIssuer

from .conftest import BASE_URL
from .conftest import MCP_URL
from .test_proxy_authenticate import INIT

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
REGISTRATION_TOKEN = "registration-token-for-tests"
HEADERS = {"Accept": "application/json, text/event-stream"}


@pytest.fixture(scope="module")
def idp() -> t.Iterator[OIDCIssuer]:
    with OIDCIssuer(alg="ES256") as server:
        yield server


@pytest.fixture(scope="module")
def other() -> t.Iterator[OIDCIssuer]:
    """Another issuer: its key (a kid of its own) signs forgeries."""
    with OIDCIssuer(alg="ES256") as server:
        server.keys.rotate("ES256", kid="forger-key")
        yield server


@pytest.fixture
def app(make_app, idp):
    return make_app(enterprise_idps=[idp.issuer], registration_token=REGISTRATION_TOKEN)


@pytest.fixture
def http(app):
    return app.test_client()


def register(http, **metadata: t.Any) -> dict[str, t.Any]:
    body = {
        "client_name": "Corp Assistant",
        "grant_types": [JWT_BEARER],
        "token_endpoint_auth_method": "client_secret_basic",
        **metadata,
    }
    reply = http.post(
        "/oauth/register",
        json=body,
        headers={"Authorization": f"Bearer {REGISTRATION_TOKEN}"},
    )
    assert reply.status_code == 201, reply.text
    return t.cast(dict[str, t.Any], reply.json)


@pytest.fixture
def client(http) -> dict[str, t.Any]:
    return register(http)


def exchange(http, client, assertion, **form: t.Any):
    """The token request of the MCP client, authenticated with its secret."""
    data = {"grant_type": JWT_BEARER, "assertion": assertion, **form}
    data = {k: v for k, v in data.items() if v is not None}
    headers = {}
    if client.get("client_secret"):
        raw = f"{client['client_id']}:{client['client_secret']}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    else:
        data["client_id"] = client["client_id"]
    return http.post("/oauth/token", data=data, headers=headers)


def mint(
    idp: OIDCIssuer,
    client: dict[str, t.Any],
    *,
    header: dict[str, t.Any] | None = None,
    lifetime: int = 300,
    signer: OIDCIssuer | None = None,
    **claims: t.Any,
) -> str:
    """An ID-JAG of ``idp`` for ``client`` (a claim given as ``None`` is
    left out), signed by ``signer``'s key (default: ``idp``'s)."""
    now = int(time.time())
    full = {
        "iss": idp.issuer,
        "sub": "employee-42",
        "aud": claims.pop("audience", BASE_URL),
        "client_id": client["client_id"],
        "resource": MCP_URL,
        "jti": secrets.token_urlsafe(12),
        "iat": now,
        "exp": now + lifetime,
        "email": "employee-42@corp.example",
        **claims,
    }
    return (signer or idp).mint(full, {"typ": "oauth-id-jag+jwt", **(header or {})})


def claims_of(token: str) -> dict[str, t.Any]:
    payload = token.split(".")[1]
    return t.cast(
        dict[str, t.Any], json.loads(base64.urlsafe_b64decode(payload + "=="))
    )


# -- the grant ------------------------------------------------------------------


def test_an_id_jag_buys_an_access_token(http, idp, client, issued):
    assertion = mint(idp, client, scope="mcp:read")
    reply = exchange(http, client, assertion, resource=MCP_URL)
    assert reply.status_code == 200, reply.text
    tokens = reply.json
    assert tokens["token_type"] == "Bearer"
    assert "refresh_token" not in tokens  # the IdP decides how long it lasts
    assert tokens["scope"] == "mcp:read"
    assert tokens["resource"] == MCP_URL
    assert reply.headers["Cache-Control"] == "no-store"
    claims = claims_of(tokens["access_token"])
    assert claims["sub"] == "employee-42"
    assert claims["aud"] == MCP_URL
    assert claims["client_id"] == client["client_id"]
    assert claims["scope"] == "mcp:read"
    assert claims["exp"] - claims["iat"] == 3600
    assert issued() == [JWT_BEARER]
    # The MCP endpoint and protected routes take it; the session says who
    # vouched for the user.
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (
        http.post("/mcp", json=INIT, headers={**HEADERS, **bearer}).status_code == 200
    )
    me = http.get("/whoami", headers=bearer).json
    assert me["subject"] == "employee-42"
    assert me["email"] == "employee-42@corp.example"
    assert me["client_id"] == client["client_id"]
    assert me["scopes"] == ["mcp:read"]
    assert me["upstream_access_token"] == ""  # never went upstream
    # Revoking it ends it.
    revoked = http.post(
        "/oauth/revoke",
        data={"token": tokens["access_token"]},
        headers={"Authorization": exchange_auth(client)},
    )
    assert revoked.status_code == 200
    assert http.get("/whoami", headers=bearer).status_code == 401


def exchange_auth(client) -> str:
    raw = f"{client['client_id']}:{client['client_secret']}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def test_without_scope_the_assertion_decides(http, idp, client):
    granted = exchange(http, client, mint(idp, client, scope="mcp:write"))
    assert granted.json["scope"] == "mcp:write"
    everything = exchange(http, client, mint(idp, client))  # no scope claim
    assert everything.json["scope"] == "mcp:read mcp:write"
    narrowed = exchange(
        http, client, mint(idp, client, scope="mcp:read mcp:write"), scope="mcp:read"
    )
    assert narrowed.json["scope"] == "mcp:read"


def test_the_resource_of_the_request_or_of_the_assertion(http, idp, client):
    plain = exchange(http, client, mint(idp, client))
    assert claims_of(plain.json["access_token"])["aud"] == MCP_URL
    listed = exchange(
        http, client, mint(idp, client, resource=["https://other.example", MCP_URL])
    )
    assert listed.status_code == 200
    assert claims_of(listed.json["access_token"])["aud"] == MCP_URL


def test_an_aud_array_of_one_is_accepted(http, idp, client):
    reply = exchange(http, client, mint(idp, client, audience=[BASE_URL]))
    assert reply.status_code == 200, reply.text


def test_client_secret_post_and_the_keys_found_through_discovery(
    http, idp, client, app
):
    before = {path: idp.hits(path) for path in ("/oauth-authorization-server", "/jwks")}
    data = {
        "grant_type": JWT_BEARER,
        "assertion": mint(idp, client),
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
    }
    assert http.post("/oauth/token", data=data).status_code == 200
    fetched = {path: idp.hits(path) - n for path, n in before.items()}
    assert all(count <= 1 for count in fetched.values()), fetched
    # Kept in the store: the next ones fetch nothing.
    seen = len(idp.seen)
    for _ in range(3):
        assert exchange(http, client, mint(idp, client)).status_code == 200
    assert len(idp.seen) == seen


def test_advertised_in_the_metadata(http, make_app):
    metadata = http.get("/.well-known/oauth-authorization-server").json
    assert JWT_BEARER in metadata["grant_types_supported"]
    assert metadata["authorization_grant_profiles_supported"] == [
        "urn:ietf:params:oauth:grant-profile:id-jag"
    ]
    # Which IdPs are trusted is never disclosed.
    assert "127.0.0.1" not in json.dumps(metadata)
    plain = make_app().test_client()
    metadata = plain.get("/.well-known/oauth-authorization-server").json
    assert JWT_BEARER not in metadata["grant_types_supported"]
    assert "authorization_grant_profiles_supported" not in metadata


# -- refusals: each an OAuth error, nothing issued -------------------------------


def refused(reply, error: str, status: int = 400, words: str = "") -> None:
    assert reply.status_code == status, reply.text
    body = reply.json
    assert body["error"] == error, body
    assert "access_token" not in body
    assert words in body.get("error_description", ""), body


@pytest.mark.parametrize(
    ("overrides", "error", "words"),
    [
        ({"header": {"typ": "JWT"}}, "invalid_grant", "not an ID-JAG"),
        ({"header": {"typ": None}}, "invalid_grant", "not an ID-JAG"),
        ({"header": {"typ": "at+jwt"}}, "invalid_grant", "not an ID-JAG"),
        ({"iss": "https://evil.example"}, "invalid_grant", "issuer is not trusted"),
        ({"signer": "other"}, "invalid_grant", "no key of the identity provider"),
        (
            {"signer": "other", "header": {"kid": None}},
            "invalid_grant",
            "signature is not valid",
        ),
        ({"audience": "https://other-as.example"}, "invalid_grant", "(aud)"),
        ({"audience": BASE_URL + "/"}, "invalid_grant", "(aud)"),
        ({"audience": [BASE_URL, "https://x.example"]}, "invalid_grant", "(aud)"),
        ({"audience": []}, "invalid_grant", "(aud)"),
        ({"client_id": "someone-else"}, "invalid_grant", "another client"),
        ({"lifetime": -120}, "invalid_grant", "expired"),
        ({"iat": int(time.time()) + 600}, "invalid_grant", "in the future"),
        ({"nbf": int(time.time()) + 600}, "invalid_grant", "not valid yet"),
        ({"lifetime": 3600}, "invalid_grant", "longer than 600 seconds"),
        ({"exp": "tomorrow"}, "invalid_grant", "times are not valid"),
        ({"sub": None}, "invalid_grant", "lacks the sub claim"),
        ({"jti": None}, "invalid_grant", "lacks the jti claim"),
        ({"resource": None}, "invalid_grant", "lacks the resource claim"),
        ({"exp": None, "iat": None}, "invalid_grant", "lacks the exp, iat claims"),
        ({"audience": None}, "invalid_grant", "lacks the aud claim"),
        ({"sub": ""}, "invalid_grant", "sub is not valid"),
        ({"jti": "x" * 300}, "invalid_grant", "jti is not valid"),
        ({"resource": 7}, "invalid_grant", "resource is not valid"),
        ({"scope": ["mcp:read"]}, "invalid_grant", "scope is not a string"),
        (
            {"resource": "https://other.example/mcp"},
            "invalid_target",
            "not an MCP endpoint of this server",
        ),
        ({"scope": "admin"}, "invalid_scope", "none of this server's scopes"),
        ({"scope": ""}, "invalid_scope", "none of this server's scopes"),
    ],
)
def test_refused_assertions(http, idp, other, client, issued, overrides, error, words):
    if overrides.get("signer") == "other":
        overrides = {**overrides, "signer": other}
    assertion = mint(idp, client, **overrides)
    refused(exchange(http, client, assertion), error, words=words)
    assert issued() == []


@pytest.mark.parametrize(
    "assertion",
    [
        "",
        "not-a-jwt",
        "a.b.c",
        "é.é.é",
        "x" * 5000 + ".y.z",
        "eyJhbGciOiJub25lIn0.e30.",
    ],
)
def test_malformed_assertions(http, client, issued, assertion):
    reply = exchange(http, client, assertion)
    if not assertion:
        refused(reply, "invalid_request", words="assertion")
    else:
        refused(reply, "invalid_grant")
    assert issued() == []


def test_unsigned_and_symmetric_algorithms(http, idp, client, issued):
    for alg in ("none", "HS256"):
        header = base64.urlsafe_b64encode(
            json.dumps({"typ": "oauth-id-jag+jwt", "alg": alg}).encode()
        ).rstrip(b"=")
        good = mint(idp, client).split(".")
        forged = ".".join([header.decode(), good[1], good[2]])
        refused(exchange(http, client, forged), "invalid_grant", words="algorithm")
    assert issued() == []


def test_a_replay_is_refused(http, idp, client, issued):
    assertion = mint(idp, client)
    assert exchange(http, client, assertion).status_code == 200
    refused(exchange(http, client, assertion), "invalid_grant", words="already used")
    assert len(issued()) == 1


def test_a_refused_request_does_not_spend_the_assertion(http, idp, client):
    assertion = mint(idp, client, scope="mcp:read")
    refused(
        exchange(http, client, assertion, scope="mcp:write"),
        "invalid_scope",
    )
    refused(
        exchange(http, client, assertion, resource="https://other.example/mcp"),
        "invalid_target",
    )
    assert exchange(http, client, assertion).status_code == 200


def test_a_requested_resource_the_assertion_does_not_name(make_app, idp, tmp_path):
    """One proxy, two endpoints: an assertion for /a/mcp buys nothing for /b/mcp."""
    from flask import Flask

    from flask_mcp import FlaskMCP
    from flask_mcp.auth.proxy import OAuthProxy

    from .app import make_provider

    app = Flask(__name__, instance_path=str(tmp_path / "two"))
    proxy = OAuthProxy(
        make_provider(BASE_URL, "http://127.0.0.1:9"),
        scopes=["mcp:read"],
        enterprise_idps=[idp.issuer],
        registration_token=REGISTRATION_TOKEN,
    )
    for name in ("a", "b"):
        FlaskMCP(app, name=name, blueprint_name=name, path=f"/{name}/mcp", auth=proxy)
    http = app.test_client()
    client = register(http)
    a, b = f"{BASE_URL}/a/mcp", f"{BASE_URL}/b/mcp"
    refused(
        exchange(http, client, mint(idp, client, resource=a), resource=b),
        "invalid_target",
        words="requested resource",
    )
    refused(
        exchange(http, client, mint(idp, client, resource=a), resource=[a, b]),
        "invalid_target",
    )
    tokens = exchange(http, client, mint(idp, client, resource=[a, b]), resource=b)
    assert claims_of(tokens.json["access_token"])["aud"] == b
    first = exchange(http, client, mint(idp, client, resource=b))
    assert claims_of(first.json["access_token"])["aud"] == b


def test_clients_that_may_not_use_the_grant(http, idp, issued):
    # A public client: the grant is for confidential clients only.
    public = http.post(
        "/oauth/register",
        json={
            "redirect_uris": ["http://127.0.0.1:9/cb"],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", JWT_BEARER],
        },
        headers={"Authorization": f"Bearer {REGISTRATION_TOKEN}"},
    ).json
    refused(exchange(http, public, mint(idp, public)), "invalid_client", 401)
    # A confidential client that did not register the grant.
    coded = register(
        http,
        grant_types=["authorization_code"],
        redirect_uris=["http://127.0.0.1:9/cb"],
    )
    refused(exchange(http, coded, mint(idp, coded)), "unauthorized_client")
    # A wrong secret.
    client = register(http)
    refused(
        exchange(http, {**client, "client_secret": "wrong"}, mint(idp, client)),
        "invalid_client",
        401,
    )
    assert issued() == []


def test_registering_for_the_grant(http):
    # Only confidential clients may register it without the code grant...
    reply = http.post(
        "/oauth/register",
        json={"grant_types": [JWT_BEARER], "token_endpoint_auth_method": "none"},
        headers={"Authorization": f"Bearer {REGISTRATION_TOKEN}"},
    )
    assert reply.status_code == 400
    assert "confidential" in reply.json["error_description"]
    # ...and refresh_token or client_credentials are not machine grants here.
    reply = http.post(
        "/oauth/register",
        json={"grant_types": [JWT_BEARER, "refresh_token"]},
        headers={"Authorization": f"Bearer {REGISTRATION_TOKEN}"},
    )
    assert reply.status_code == 400


def test_an_idp_limited_to_some_clients(make_app, idp, issued):
    settings = IdPSettings(
        idp.issuer, clients=("allowed-client",), scopes=("mcp:read",)
    )
    http = make_app(
        enterprise_idps=[settings], registration_token=REGISTRATION_TOKEN
    ).test_client()
    client = register(http)
    refused(
        exchange(http, client, mint(idp, client)),
        "invalid_grant",
        words="may not use this identity provider",
    )
    assert issued() == []


def test_an_idp_capped_to_some_scopes(make_app, idp):
    settings = IdPSettings(idp.issuer, scopes=("mcp:read",))
    http = make_app(
        enterprise_idps=[settings], registration_token=REGISTRATION_TOKEN
    ).test_client()
    client = register(http)
    reply = exchange(http, client, mint(idp, client, scope="mcp:read mcp:write"))
    assert reply.json["scope"] == "mcp:read"
    refused(
        exchange(http, client, mint(idp, client), scope="mcp:write"), "invalid_scope"
    )


def test_an_idp_that_is_down_is_503(make_app, issued):
    down = OIDCIssuer(alg="ES256")
    down.close()  # nothing answers at its address any more
    http = make_app(
        enterprise_idps=[down.issuer], registration_token=REGISTRATION_TOKEN
    ).test_client()
    client = register(http)
    reply = exchange(http, client, mint(down, client))
    refused(reply, "temporarily_unavailable", 503, words="try again")
    assert reply.headers["Retry-After"]
    assert issued() == []


def test_the_grant_is_unknown_without_idps(make_app, idp):
    http = make_app(registration_token=REGISTRATION_TOKEN).test_client()
    reply = http.post(
        "/oauth/token", data={"grant_type": JWT_BEARER, "assertion": "a.b.c"}
    )
    refused(reply, "unsupported_grant_type")


# -- the settings ------------------------------------------------------------------


def test_settings_from_the_app_config(make_app, idp):
    http = make_app(
        config={"MCP_OAUTH_ENTERPRISE_IDPS": idp.issuer},
        registration_token=REGISTRATION_TOKEN,
    ).test_client()
    client = register(http)
    assert exchange(http, client, mint(idp, client)).status_code == 200


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("http://idp.example", "http only on loopback"),
        ("ftp://idp.example", "https URL"),
        ("https://idp.example#x", "https URL"),
        ({"issuer": "https://idp.example", "algorithms": ["HS256"]}, "not allowed"),
        ({"issuer": "https://idp.example", "algorithms": []}, "not allowed"),
        ({"issuer": "https://idp.example", "clients": "one"}, "sequence of strings"),
        ({"issuer": "https://idp.example", "max_lifetime": -1}, "integer >= 0"),
        (["https://idp.example", "https://idp.example"], "names an issuer twice"),
        ([3], "issuer URLs or EnterpriseIdP"),
    ],
)
def test_bad_settings(value, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(")):
        GrantOptions(enterprise_idps=value)


def test_a_client_identified_by_its_metadata_document(
    make_app, idp, documents, doc_path, issued
):
    """The draft's alternative to mapping client ids: a client whose
    ``client_id`` is its metadata document's URL, ``private_key_jwt`` with
    the keys the document publishes, the JWT bearer grant alone."""
    from flask_mcp.auth.proxy import CIMDOptions

    from .test_proxy_cimd_private_key_jwt import assertion
    from .test_proxy_cimd_private_key_jwt import public

    key = ECKey.generate_key("P-256", auto_kid=True)
    http = make_app(
        enterprise_idps=[idp.issuer], cimd=CIMDOptions(allow_hosts=("localhost",))
    ).test_client()
    url = documents.document(
        doc_path,
        grant_types=[JWT_BEARER],
        redirect_uris=None,
        token_endpoint_auth_method="private_key_jwt",
        jwks=public(key),
    )
    client = {"client_id": url}
    data = {
        "grant_type": JWT_BEARER,
        "assertion": mint(idp, client),
        **assertion(key, url),
    }
    reply = http.post("/oauth/token", data=data)
    assert reply.status_code == 200, reply.text
    assert claims_of(reply.json["access_token"])["client_id"] == url
    # Without its key it is not authenticated: nothing issued.
    bare = http.post(
        "/oauth/token",
        data={
            "grant_type": JWT_BEARER,
            "assertion": mint(idp, client),
            "client_id": url,
        },
    )
    refused(bare, "invalid_client", 401)
    assert issued() == [JWT_BEARER]
