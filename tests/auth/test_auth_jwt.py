"""JWTVerifier against a real issuer: oauth2-mock-server on loopback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest
import requests
from joserfc.jwk import JWKRegistry
from werkzeug.test import EnvironBuilder

from flask_mcp.auth import ClaimNames
from flask_mcp.auth import DiscoveryDocumentCache
from flask_mcp.auth import Forbidden
from flask_mcp.auth import JWTVerifier
from flask_mcp.auth import TokenSession
from flask_mcp.auth import Unauthorized
from flask_mcp.auth import bearer_auth
from flask_mcp.auth import require_all
from flask_mcp.auth import require_role
from flask_mcp.auth import require_scopes
from flask_mcp.store import create_store

AUDIENCE = "https://mcp.example.com/mcp"
USER = {
    "sub": "user-1",
    "aud": AUDIENCE,
    "scope": "files:read files:write",
    "roles": ["admin"],
    "email": "user-1@example.com",
    "client_id": "client-9",
}


@pytest.fixture
def verifier(mock_issuer, store):
    return JWTVerifier(mock_issuer.issuer, AUDIENCE, store=store)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, claims: dict, signature: bytes = b"") -> str:
    return ".".join(
        [
            b64(json.dumps(header).encode()),
            b64(json.dumps(claims).encode()),
            b64(signature),
        ]
    )


def rejected(verifier, token, match=None) -> Unauthorized:
    with pytest.raises(Unauthorized) as caught:
        verifier.verify(token)
    error = caught.value
    assert error.status_code == 401
    assert error.error == "invalid_token"
    assert "Traceback" not in (error.description or "")
    if match:
        assert match in error.description
    return error


def test_valid_token(mock_issuer, verifier):
    token = mock_issuer.mint(USER)
    session = verifier.verify(token)
    assert isinstance(session, TokenSession)
    assert session.subject == "user-1"
    assert session.scopes == {"files:read", "files:write"}
    assert session.roles == {"admin"}
    assert session.email == "user-1@example.com"
    assert session.client_id == "client-9"
    assert session.token == token
    assert session.expires_at and session.expires_at > time.time()
    assert session.claims["iss"] == mock_issuer.issuer
    assert require_all(require_role("admin"), require_scopes("files:read"))(session)
    # oauth2-mock-server has no RFC 8414 document: found via openid-configuration.
    assert verifier.jwks_uri == f"{mock_issuer.issuer}/jwks"


def client_credentials_token(mock_issuer) -> str:
    response = requests.post(
        f"{mock_issuer.issuer}/token",
        data={
            "grant_type": "client_credentials",
            "scope": "a b",
            "aud": AUDIENCE,
            "roles": "ops",
        },
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def test_token_from_the_token_endpoint(mock_issuer, store):
    # client_credentials: this issuer sets no sub, so the token is accepted
    # only by a verifier told so (see test_tokens_without_sub).
    verifier = JWTVerifier(mock_issuer.issuer, AUDIENCE, store=store, require_sub=False)
    session = verifier(client_credentials_token(mock_issuer))
    assert session.scopes == {"a", "b"}
    assert session.roles == {"ops"}
    assert session.subject is None


def test_scp_list_and_audience_list(mock_issuer, verifier):
    token = mock_issuer.mint(
        {
            "sub": "u",
            "aud": ["https://other", AUDIENCE],
            "scp": ["x", "y"],
            "scope": None,
        }
    )
    assert verifier.verify(token).scopes == {"x", "y"}


def test_configurable_claim_names(mock_issuer, store):
    verifier = JWTVerifier(
        mock_issuer.issuer,
        AUDIENCE,
        store=store,
        claims=ClaimNames(subject="oid", roles="realm_access.roles", email="upn"),
    )
    token = mock_issuer.mint(
        {"oid": "o-1", "aud": AUDIENCE, "realm_access": {"roles": ["r"]}, "upn": "a@b"}
    )
    session = verifier.verify(token)
    assert (session.subject, session.roles, session.email) == ("o-1", {"r"}, "a@b")


def test_through_bearer_auth(mock_issuer, verifier):
    token = mock_issuer.mint(USER)
    request = EnvironBuilder(headers={"Authorization": f"Bearer {token}"}).get_request()
    assert bearer_auth(verifier)(request).subject == "user-1"


def test_expired(mock_issuer, verifier):
    now = int(time.time())
    token = mock_issuer.mint(USER | {"exp": now - 120, "iat": now - 600, "nbf": None})
    rejected(verifier, token, "expired")


def test_expired_within_leeway_is_accepted(mock_issuer, verifier):
    now = int(time.time())
    token = mock_issuer.mint(USER | {"exp": now - 10, "iat": now - 600})
    assert verifier.verify(token).subject == "user-1"
    strict = JWTVerifier(
        mock_issuer.issuer, AUDIENCE, leeway=0, discovery=verifier.discovery
    )
    rejected(strict, token, "expired")


def test_missing_exp(mock_issuer, verifier):
    rejected(verifier, mock_issuer.mint(USER | {"exp": None}), "exp")


def test_not_yet_valid(mock_issuer, verifier):
    token = mock_issuer.mint(USER | {"nbf": int(time.time()) + 300})
    rejected(verifier, token, "not yet valid")


def test_issued_in_the_future(mock_issuer, verifier):
    token = mock_issuer.mint(USER | {"iat": int(time.time()) + 300})
    rejected(verifier, token, "future")


def test_wrong_issuer(mock_issuer, verifier):
    token = mock_issuer.mint(USER | {"iss": "https://evil.example"})
    rejected(verifier, token, "issuer")


@pytest.mark.parametrize("aud", ["https://other.example/mcp", ["a", "b"], None, []])
def test_wrong_audience(mock_issuer, verifier, aud):
    token = mock_issuer.mint(USER | {"aud": aud})
    rejected(verifier, token)


def test_alg_none(mock_issuer, verifier):
    claims = USER | {"iss": mock_issuer.issuer, "exp": int(time.time()) + 600}
    for alg in ("none", "None", "NONE"):
        rejected(verifier, forge({"alg": alg, "typ": "JWT"}, claims), "algorithm")
        kid = {"alg": alg, "kid": "initial-rsa"}
        rejected(verifier, forge(kid, claims) + "", "algorithm")


def test_hs256_signed_with_the_rsa_public_key(mock_issuer, verifier):
    jwks = requests.get(f"{mock_issuer.issuer}/jwks", timeout=10).json()
    jwk = next(k for k in jwks["keys"] if k["kid"] == "initial-rsa")
    public_pem = JWKRegistry.import_key(jwk).as_pem(private=False)
    claims = USER | {"iss": mock_issuer.issuer, "exp": int(time.time()) + 600}
    for secret in (public_pem, public_pem.strip(), json.dumps(jwk).encode()):
        header = {"alg": "HS256", "typ": "JWT", "kid": "initial-rsa"}
        signing_input = ".".join(
            [b64(json.dumps(header).encode()), b64(json.dumps(claims).encode())]
        )
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        rejected(verifier, f"{signing_input}.{b64(signature)}", "algorithm")


@pytest.mark.parametrize("algorithms", [["HS256"], ["RS256", "HS512"], ["none"], []])
def test_hmac_and_none_cannot_be_configured(algorithms):
    with pytest.raises(ValueError):
        JWTVerifier("https://as.example", AUDIENCE, algorithms=algorithms)


def test_algorithm_outside_the_allow_list(mock_issuer, store):
    verifier = JWTVerifier(
        mock_issuer.issuer, AUDIENCE, store=store, algorithms=["ES256"]
    )
    rejected(verifier, mock_issuer.mint(USER), "algorithm")


def test_key_rotation_is_picked_up_after_one_refetch(mock_issuer, verifier):
    verifier.verify(mock_issuer.mint(USER, kid="initial-rsa"))  # JWKS now cached
    kid = f"rotated-{uuid.uuid4().hex[:8]}"
    mock_issuer.add_key("RS256", kid)
    before = mock_issuer.hits("jwks")
    session = verifier.verify(mock_issuer.mint(USER, kid=kid))
    assert session.subject == "user-1"
    assert mock_issuer.hits("jwks") == before + 1
    verifier.verify(mock_issuer.mint(USER, kid=kid))
    assert mock_issuer.hits("jwks") == before + 1


def test_unknown_kid_refetch_is_rate_limited(mock_issuer, store, clock):
    verifier = JWTVerifier(
        mock_issuer.issuer, AUDIENCE, store=store, jwks_refetch_interval=1
    )
    verifier.verify(mock_issuer.mint(USER))
    before = mock_issuer.hits("jwks")
    for _ in range(5):
        token = mock_issuer.mint(USER, header={"kid": uuid.uuid4().hex})
        rejected(verifier, token, "no key")
    assert mock_issuer.hits("jwks") == before + 1
    clock.advance(1.1)  # the interval has passed: one more refetch is allowed
    rejected(verifier, mock_issuer.mint(USER, header={"kid": "random"}))
    rejected(verifier, mock_issuer.mint(USER, header={"kid": "random-2"}))
    assert mock_issuer.hits("jwks") == before + 2


def test_rate_limit_is_shared_by_workers(mock_issuer, tmp_path):
    # Two verifiers over one file store: two gunicorn workers of one host.
    workers = [
        JWTVerifier(
            mock_issuer.issuer,
            AUDIENCE,
            store=create_store(None, str(tmp_path), "t:"),
        )
        for _ in range(2)
    ]
    workers[0].verify(mock_issuer.mint(USER))
    before = mock_issuer.hits("jwks")
    workers[1].verify(mock_issuer.mint(USER))  # JWKS from the shared store
    assert mock_issuer.hits("jwks") == before
    for worker in workers * 2:
        rejected(worker, mock_issuer.mint(USER, header={"kid": uuid.uuid4().hex}))
    assert mock_issuer.hits("jwks") == before + 1


def test_token_without_kid(mock_issuer, store):
    kid = f"solo-{uuid.uuid4().hex[:8]}"
    mock_issuer.add_key("RS256", kid)
    jwks_uri = f"{mock_issuer.issuer}/jwks"
    verifier = JWTVerifier(mock_issuer.issuer, AUDIENCE, jwks_uri=jwks_uri, store=store)
    token = mock_issuer.mint(USER, kid=kid, header={"kid": None})
    assert "kid" not in json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert verifier.verify(token).subject == "user-1"  # tried against each RSA key


@pytest.mark.parametrize(
    ("alg", "crv"), [("ES256", None), ("EdDSA", None), ("PS256", None)]
)
def test_other_asymmetric_algorithms(mock_issuer, verifier, alg, crv):
    kid = f"{alg.lower()}-{uuid.uuid4().hex[:8]}"
    mock_issuer.add_key(alg, kid)
    session = verifier.verify(mock_issuer.mint(USER, kid=kid))
    assert session.subject == "user-1"


def test_alg_confusion_between_key_types(mock_issuer, verifier):
    # Claims RS256 but names an EC key: no RS256 key has that kid.
    kid = f"ec-{uuid.uuid4().hex[:8]}"
    mock_issuer.add_key("ES256", kid)
    token = mock_issuer.mint(USER, kid="initial-rsa", header={"kid": kid})
    rejected(verifier, token)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c",
        "a.b.c.d",
        "....",
        "é.é.é",
        "eyJhbGciOiJSUzI1NiJ9.!!!.abc",
        b64(b"[1]") + ".e30.abc",
        b64(b'{"alg": 5}') + ".e30.abc",
        b64(b'{"alg": "RS256", "kid": 7}') + ".e30.abc",
    ],
)
def test_malformed(verifier, token):
    rejected(verifier, token)


def test_not_a_string(verifier):
    rejected(verifier, None)  # type: ignore[arg-type]


def test_truncated_or_tampered_signature(mock_issuer, verifier):
    token = mock_issuer.mint(USER)
    rejected(verifier, token[:-6], "signature")
    header, payload, signature = token.split(".")
    rejected(verifier, f"{header}.{payload}.", "signature")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged = b64(json.dumps(claims | {"roles": ["root"]}).encode())
    rejected(verifier, f"{header}.{forged}.{signature}", "signature")


def test_payload_not_an_object(mock_issuer, verifier):
    token = mock_issuer.mint(USER)
    header, _, signature = token.split(".")
    rejected(verifier, f"{header}.{b64(b'[]')}.{signature}")


def test_required_scopes(mock_issuer, store):
    verifier = JWTVerifier(
        mock_issuer.issuer, AUDIENCE, store=store, required_scopes=["files:admin"]
    )
    with pytest.raises(Forbidden) as caught:
        verifier.verify(mock_issuer.mint(USER))
    assert caught.value.error == "insufficient_scope"
    assert caught.value.scopes == ("files:admin",)
    token = mock_issuer.mint(USER | {"scope": "files:admin"})
    assert verifier.verify(token).scopes == {"files:admin"}


def test_issuer_unreachable(http_server, store):
    issuer = http_server.url
    http_server.close()
    verifier = JWTVerifier(issuer, AUDIENCE, store=store)
    rejected(verifier, forge({"alg": "RS256", "kid": "k"}, {}, b"x"), "cannot verify")


def test_discovery_issuer_mismatch(http_server, store):
    http_server.json(
        "/.well-known/openid-configuration",
        {"issuer": "https://someone-else", "jwks_uri": http_server.url + "/jwks"},
    )
    verifier = JWTVerifier(http_server.url, AUDIENCE, store=store)
    rejected(verifier, forge({"alg": "RS256", "kid": "k"}, {}, b"x"), "cannot verify")
    assert http_server.hits["/jwks"] == 0


def test_rfc8414_metadata_is_preferred(http_server, mock_issuer, store):
    # An issuer with a path whose RFC 8414 document is path-inserted.
    issuer = http_server.url + "/tenant"
    http_server.json(
        "/.well-known/oauth-authorization-server/tenant",
        {"issuer": issuer, "jwks_uri": f"{mock_issuer.issuer}/jwks"},
    )
    discovery = DiscoveryDocumentCache(store=store)
    verifier = JWTVerifier(issuer, AUDIENCE, discovery=discovery)
    token = mock_issuer.mint(USER | {"iss": issuer})
    assert verifier.verify(token).subject == "user-1"
    assert http_server.hits["/tenant/.well-known/openid-configuration"] == 0


def test_token_types(mock_issuer, store):
    verifier = JWTVerifier(
        mock_issuer.issuer,
        AUDIENCE,
        store=store,
        token_types=["at+jwt", "application/at+jwt"],
    )
    rejected(verifier, mock_issuer.mint(USER), "token type")  # typ "JWT"
    rejected(verifier, mock_issuer.mint(USER, header={"typ": None}), "token type")
    token = mock_issuer.mint(USER, header={"typ": "AT+JWT"})
    assert verifier.verify(token).subject == "user-1"


def test_a_remembered_token_still_expires_on_time(mock_issuer, store, clock):
    verifier = JWTVerifier(mock_issuer.issuer, AUDIENCE, store=store, leeway=0)
    token = mock_issuer.mint(USER, expires_in=2)
    first = verifier.verify(token)
    assert verifier.verify(token) is first  # remembered: no second signature check
    clock.advance(2.2)
    rejected(verifier, token, "expired")


def test_remembering_can_be_turned_off(mock_issuer, store):
    verifier = JWTVerifier(mock_issuer.issuer, AUDIENCE, store=store, cache_seconds=0)
    token = mock_issuer.mint(USER)
    assert verifier.verify(token) is not verifier.verify(token)


def test_required_scopes_are_checked_on_remembered_tokens(mock_issuer, store):
    verifier = JWTVerifier(
        mock_issuer.issuer, AUDIENCE, store=store, required_scopes=["files:admin"]
    )
    token = mock_issuer.mint(USER)
    for _ in range(2):
        with pytest.raises(Forbidden):
            verifier.verify(token)
