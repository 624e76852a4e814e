"""``private_key_jwt`` for clients identified by a metadata document: the
document publishes the client's public keys (``jwks`` or ``jwks_uri``) and
the client signs a fresh assertion for each token or revocation request."""

from __future__ import annotations

import json
import secrets
import time

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from flask_mcp.auth.proxy import CIMDOptions

from .conftest import BASE_URL
from .documents import Answer
from .test_proxy_cimd_flow import client_of

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture
def flow(make_app, make_flow):
    return make_flow(make_app(cimd=CIMDOptions(allow_hosts=("localhost",))))


@pytest.fixture
def key() -> ECKey:
    return ECKey.generate_key("P-256", auto_kid=True)


def public(key: ECKey) -> dict[str, object]:
    return {"keys": [key.as_dict(private=False)]}


def assertion(key: ECKey, client_id: str, **claims: object) -> dict[str, str]:
    now = int(time.time())
    body = {
        "iss": client_id,
        "sub": client_id,
        "aud": BASE_URL + "/oauth/token",
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(12),
        **claims,
    }
    header = {"alg": "ES256", "kid": key.kid}
    signed = jwt.encode(header, {k: v for k, v in body.items() if v is not None}, key)
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": signed}


def test_inline_jwks(flow, documents, doc_path, key):
    url = documents.document(
        doc_path, token_endpoint_auth_method="private_key_jwt", jwks=public(key)
    )
    login = flow.login(client_of(url))
    # Without an assertion the client is refused: it is not a public client.
    bare = flow.token(login)
    assert bare.status == 401 and bare.json()["error"] == "invalid_client"
    login = flow.login(client_of(url))
    proof = assertion(key, url)
    reply = flow.token(login, **proof)
    assert reply.status == 200, reply.text
    tokens = reply.json()
    assert flow.whoami(tokens["access_token"]).json()["client_id"] == url
    # The same assertion again (its jti is spent), at another endpoint too.
    replay = flow.refresh(client_of(url), tokens["refresh_token"], **proof)
    assert replay.status == 401 and "JWT ID" in replay.json()["error_description"]
    refreshed = flow.refresh(
        client_of(url), tokens["refresh_token"], **assertion(key, url)
    )
    assert refreshed.status == 200, refreshed.text
    revoked = flow.revoke(
        client_of(url), refreshed.json()["refresh_token"], **assertion(key, url)
    )
    assert revoked.status == 200
    assert flow.whoami(refreshed.json()["access_token"]).status == 401


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"aud": "https://elsewhere.example/token"}, "aud"),
        ({"exp": int(time.time()) + 7200}, "lives longer than 3600s"),
        ({"exp": int(time.time()) - 600}, "exp"),
        ({"jti": None}, "Missing JWT ID"),
    ],
)
def test_refused_assertions(flow, documents, doc_path, key, claims, why):
    url = documents.document(
        doc_path, token_endpoint_auth_method="private_key_jwt", jwks=public(key)
    )
    reply = flow.token(flow.login(client_of(url)), **assertion(key, url, **claims))
    assert reply.status == 401 and reply.json()["error"] == "invalid_client"
    assert why in reply.json()["error_description"]


def test_assertion_signed_by_another_key(flow, documents, doc_path, key):
    url = documents.document(
        doc_path, token_endpoint_auth_method="private_key_jwt", jwks=public(key)
    )
    stranger = ECKey.generate_key("P-256", parameters={"kid": key.kid})
    reply = flow.token(flow.login(client_of(url)), **assertion(stranger, url))
    assert reply.status == 401 and reply.json()["error"] == "invalid_client"


def test_jwks_uri(flow, documents, doc_path, key):
    keys_path = doc_path + "-jwks"
    documents.serve(
        keys_path,
        Answer(
            body=json.dumps(public(key)).encode(),
            headers={"Content-Type": "application/jwk-set+json"},
        ),
    )
    url = documents.document(
        doc_path,
        token_endpoint_auth_method="private_key_jwt",
        jwks_uri=documents.url(keys_path),
    )
    for _ in range(2):
        reply = flow.token(flow.login(client_of(url)), **assertion(key, url))
        assert reply.status == 200, reply.text
    assert documents.hits(keys_path) == 1  # kept like the document


def test_jwks_uri_with_private_keys_is_refused(flow, documents, doc_path, key, caplog):
    keys_path = doc_path + "-jwks"
    documents.serve(
        keys_path,
        Answer(
            body=json.dumps({"keys": [key.as_dict(private=True)]}).encode(),
            headers={"Content-Type": "application/json"},
        ),
    )
    url = documents.document(
        doc_path,
        token_endpoint_auth_method="private_key_jwt",
        jwks_uri=documents.url(keys_path),
    )
    reply = flow.token(flow.login(client_of(url)), **assertion(key, url))
    assert reply.status == 401 and "cannot be used" in reply.json()["error_description"]
    assert "it holds private keys" in caplog.text
